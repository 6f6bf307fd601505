// Loaded with --import into every process the local runner starts: a server
// that asks for every network interface gets loopback instead, so a local
// deployment is reachable from this machine only. (The stdio bridge,
// supergateway, has no option for its host.)
import net from 'node:net';

const ANY_HOST = new Set([undefined, null, '', '0.0.0.0', '::', '::0']);
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function (...args) {
  const [first] = args;
  const isPort =
    typeof first === 'number' ||
    (typeof first === 'string' && /^\d+$/.test(first));
  if (isPort) {
    if (typeof args[1] === 'string') {
      if (ANY_HOST.has(args[1])) args[1] = '127.0.0.1';
    } else {
      args.splice(1, 0, '127.0.0.1');
    }
  } else if (
    first !== null &&
    typeof first === 'object' &&
    'port' in first &&
    ANY_HOST.has(first.host)
  ) {
    args[0] = { ...first, host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
