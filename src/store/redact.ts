/** `spec` fit for a message: a URL's password (and any `password=` query value) replaced by `***`. */
export function redactSpec(spec: string): string {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    return spec.replace(/(:\/\/[^:/@\s]*:)[^@\s]*@/, '$1***@');
  }
  if (url.password) url.password = '***';
  for (const key of [...url.searchParams.keys()]) {
    if (/pass/i.test(key)) url.searchParams.set(key, '***');
  }
  return url.toString();
}
