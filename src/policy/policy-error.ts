import { MeshwardError } from '../errors.js';

/** Codes of single problems found while loading a policy set. */
export type PolicyIssueCode =
  | 'ERR_POLICY_YAML_SYNTAX'
  | 'ERR_POLICY_NOT_AN_OBJECT'
  | 'ERR_POLICY_WRONG_KIND'
  | 'ERR_POLICY_UNKNOWN_FIELD'
  | 'ERR_POLICY_MISSING_FIELD'
  | 'ERR_POLICY_INVALID_FIELD'
  | 'ERR_POLICY_EMPTY_VALUE'
  | 'ERR_POLICY_BAD_CIDR'
  | 'ERR_POLICY_BAD_PORT'
  | 'ERR_POLICY_UNKNOWN_CONDITION'
  | 'ERR_POLICY_CONFLICTING_FIELDS'
  | 'ERR_POLICY_DUPLICATE';

export type PolicyErrorCode = PolicyIssueCode | 'ERR_POLICY_INVALID' | 'ERR_POLICY_BAD_OPTION';

/** Where a problem is: the file (or `<input>`), the 0-based document index, and the field path. */
export interface PolicyIssue {
  readonly code: PolicyIssueCode;
  readonly file: string;
  readonly document: number;
  readonly path: string;
  readonly message: string;
}

/** Renders an issue as `file: document N: field.path: message`. */
export function formatIssue(issue: Pick<PolicyIssue, 'file' | 'document' | 'path' | 'message'>): string {
  const where = issue.path === '' ? '' : `${issue.path}: `;
  return `${issue.file}: document ${issue.document}: ${where}${issue.message}`;
}

/**
 * A policy set was refused. `issues` lists every problem found (not just the
 * first), so a user fixes them in one pass; nothing of the set was applied.
 */
export class PolicyError extends MeshwardError {
  declare readonly code: PolicyErrorCode;
  readonly issues: readonly PolicyIssue[];

  constructor(code: PolicyErrorCode, message: string, issues: readonly PolicyIssue[] = []) {
    super(code, `policy: ${message}`);
    this.issues = issues;
  }

  /** One error for a whole refused set; its message lists each issue on its own line. */
  static fromIssues(issues: readonly PolicyIssue[]): PolicyError {
    const lines = issues.map((i) => `  ${formatIssue(i)}`).join('\n');
    const noun = issues.length === 1 ? 'problem' : 'problems';
    return new PolicyError('ERR_POLICY_INVALID', `policy set refused, ${issues.length} ${noun}:\n${lines}`, issues);
  }
}
