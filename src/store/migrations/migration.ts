/** One schema version: applied once, in order, recorded in `schema_migrations`. Never edit a shipped one; add the next. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sqlite: string;
  readonly postgres: string;
}
