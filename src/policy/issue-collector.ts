import type { PolicyIssue, PolicyIssueCode } from './policy-error.js';

/** A warning: legal Istio, but likely not what the author meant. */
export interface PolicyWarning {
  readonly file: string;
  readonly document: number;
  readonly path: string;
  readonly message: string;
}

/** Collects every problem of one document, each with its field path, instead of stopping at the first. */
export class IssueCollector {
  readonly issues: PolicyIssue[] = [];
  readonly warnings: PolicyWarning[] = [];

  constructor(
    readonly file: string,
    readonly document: number,
  ) {}

  error(code: PolicyIssueCode, path: string, message: string): void {
    this.issues.push({ code, file: this.file, document: this.document, path, message });
  }

  warn(path: string, message: string): void {
    this.warnings.push({ file: this.file, document: this.document, path, message });
  }
}
