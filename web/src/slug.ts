// The slug the API derives from a package name: lowercase letters, digits
// and single dashes. Shown in the wizard so the user sees the name it gets.
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}

// A package name suggested by the source: the repository or package name.
export function nameFromSource(value: string): string {
  const trimmed = value
    .trim()
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
  if (!trimmed) return '';
  const npm = /^(?:@[^/]+\/)?([^@/]+)(?:@.*)?$/.exec(trimmed);
  if (npm && !trimmed.includes('://') && !trimmed.startsWith('/')) {
    return npm[1] ?? '';
  }
  return trimmed.split('/').pop() ?? '';
}
