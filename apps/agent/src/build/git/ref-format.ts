// `git check-ref-format --branch` re-implemented, pure: a branch name that git itself would refuse
// never reaches git (and one that would read as an option, like `-x`, never does either).

const MAX_BRANCH = 255;

/** Undefined when `name` is a valid branch name, else why not. */
export function branchNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the branch name is empty';
  if (name.length > MAX_BRANCH) return `the branch name is longer than ${MAX_BRANCH} characters`;
  if (name.startsWith('-')) return 'the branch name starts with "-"';
  if (name === 'HEAD') return '"HEAD" is not a branch name';
  if (name === '@') return '"@" is not a branch name';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'the branch name contains a space, a control character or one of ~ ^ : ? * [ \\';
  if (name.includes('..')) return 'the branch name contains ".."';
  if (name.includes('@{')) return 'the branch name contains "@{"';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'the branch name has an empty path component';
  if (name.endsWith('.')) return 'the branch name ends with "."';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'a component of the branch name starts with "."';
    if (part.endsWith('.lock')) return 'a component of the branch name ends with ".lock"';
  }
  return undefined;
}
