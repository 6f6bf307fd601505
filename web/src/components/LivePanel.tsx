import type { Tool } from '@sigyl/types';
import { useState } from 'react';

// How common MCP clients connect to a Streamable HTTP endpoint.
function snippets(name: string, endpoint: string) {
  return [
    {
      client: 'Claude Code',
      code: `claude mcp add --transport http ${name} ${endpoint}`,
    },
    {
      client: 'Cursor',
      file: '.cursor/mcp.json',
      code: JSON.stringify(
        { mcpServers: { [name]: { url: endpoint } } },
        null,
        2,
      ),
    },
    {
      client: 'VS Code',
      file: '.vscode/mcp.json',
      code: JSON.stringify(
        { servers: { [name]: { type: 'http', url: endpoint } } },
        null,
        2,
      ),
    },
    {
      client: 'Claude Desktop',
      file: 'claude_desktop_config.json',
      code: JSON.stringify(
        {
          mcpServers: {
            [name]: { command: 'npx', args: ['-y', 'mcp-remote', endpoint] },
          },
        },
        null,
        2,
      ),
    },
  ];
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    navigator.clipboard.writeText(text).then(
      () => {
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      },
      () => setCopied(false),
    );
  };
  return (
    <button
      type="button"
      className="button small"
      onClick={copy}
      aria-label={label}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

export function LivePanel({
  url,
  slug,
  tools,
}: {
  url: string;
  slug: string;
  tools: Tool[];
}) {
  const endpoint = `${url.replace(/\/+$/, '')}/mcp`;
  const all = snippets(slug, endpoint);
  const [tab, setTab] = useState(0);
  const chosen = all[tab] ?? all[0]!;
  return (
    <section className="card live" aria-labelledby="live-title">
      <h2 id="live-title">Your server is live</h2>
      <div className="url-row">
        <code className="server-url" data-testid="server-url">
          {endpoint}
        </code>
        <CopyButton text={endpoint} label="Copy server URL" />
      </div>

      <h3>Tools</h3>
      {tools.length === 0 ? (
        <p className="muted">The server reported no tools.</p>
      ) : (
        <ul className="tools" data-testid="tools-list">
          {tools.map((tool) => (
            <li key={tool.name} data-testid="tool">
              <code>{tool.name}</code>
              {tool.description && <span>{tool.description}</span>}
            </li>
          ))}
        </ul>
      )}

      <h3>Connect a client</h3>
      <div className="tabs" role="tablist" aria-label="MCP clients">
        {all.map((s, i) => (
          <button
            key={s.client}
            type="button"
            role="tab"
            aria-selected={i === tab}
            className="tab"
            onClick={() => setTab(i)}
          >
            {s.client}
          </button>
        ))}
      </div>
      <div className="snippet" role="tabpanel">
        {chosen.file && <div className="snippet-file">{chosen.file}</div>}
        <pre>{chosen.code}</pre>
        <CopyButton text={chosen.code} label={`Copy ${chosen.client} setup`} />
      </div>
    </section>
  );
}
