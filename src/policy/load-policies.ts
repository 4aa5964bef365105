import { parseAllDocuments } from 'yaml';
import { compilePolicy, type CompileOptions } from './compile-policy.js';
import { IssueCollector, type PolicyWarning } from './issue-collector.js';
import type { PolicyIssue } from './policy-error.js';
import type { PolicyIR } from './policy-ir.js';
import type { AuthorizationPolicy } from './types.js';
import { validatePolicy } from './validate-policy.js';

/** One input file (or any named text) of YAML documents. */
export interface PolicySource {
  readonly file: string;
  readonly text: string;
}

export interface LoadOptions extends CompileOptions {
  /** Istio's meshConfig.rootNamespace (default `istio-system`). */
  readonly rootNamespace?: string;
  /** Namespace of a policy with none (default `default`, as kubectl would use). */
  readonly defaultNamespace?: string;
}

export interface LoadResult {
  readonly policies: readonly AuthorizationPolicy[];
  /** Where each of `policies` came from. */
  readonly origins: readonly { readonly file: string; readonly document: number }[];
  readonly compiled: readonly PolicyIR[];
  readonly issues: readonly PolicyIssue[];
  readonly warnings: readonly PolicyWarning[];
}

/** A document already parsed (from objects), with where it came from. */
export interface PolicyDocument {
  readonly file: string;
  readonly document: number;
  readonly value: unknown;
}

/** Parses multi-document YAML; syntax errors become issues with their line. Empty documents are skipped but counted. */
export function parseYamlDocuments(source: PolicySource, issues: PolicyIssue[]): PolicyDocument[] {
  const out: PolicyDocument[] = [];
  parseAllDocuments(source.text).forEach((doc, i) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
        issues.push({ code: 'ERR_POLICY_YAML_SYNTAX', file: source.file, document: i, path: '', message: `invalid YAML${line}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` });
      }
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) out.push({ file: source.file, document: i, value });
  });
  return out;
}

/** Validates and compiles a whole set. Never throws for bad input: every problem is in `issues`. */
export function loadDocuments(documents: readonly PolicyDocument[], options: LoadOptions = {}, issues: PolicyIssue[] = []): LoadResult {
  const ctx = { rootNamespace: options.rootNamespace ?? 'istio-system', defaultNamespace: options.defaultNamespace ?? 'default' };
  const policies: AuthorizationPolicy[] = [];
  const origins: Array<{ file: string; document: number }> = [];
  const warnings: PolicyWarning[] = [];
  const seen = new Map<string, PolicyDocument>();
  for (const doc of documents) {
    const out = new IssueCollector(doc.file, doc.document);
    const policy = validatePolicy(doc.value, ctx, out);
    if (policy) {
      const id = `${policy.metadata.namespace}/${policy.metadata.name}`;
      const first = seen.get(id);
      if (first) out.error('ERR_POLICY_DUPLICATE', 'metadata.name', `policy ${id} is already defined in ${first.file} document ${first.document}`);
      else {
        seen.set(id, doc);
        policies.push(policy);
        origins.push({ file: doc.file, document: doc.document });
      }
    }
    issues.push(...out.issues);
    warnings.push(...out.warnings);
  }
  const compiled = issues.length === 0 ? policies.map((p) => compilePolicy(p, options)) : [];
  return { policies, origins, compiled, issues, warnings };
}

export function loadSources(sources: readonly PolicySource[], options: LoadOptions = {}): LoadResult {
  const issues: PolicyIssue[] = [];
  const documents = sources.flatMap((s) => parseYamlDocuments(s, issues));
  return loadDocuments(documents, options, issues);
}
