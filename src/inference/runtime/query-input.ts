// The input an undecorated run() gets for GET /score: the query parameters as a JSON object string, as the classic server builds it.

/** Each value parsed as JSON when it is JSON (`?n=1` gives 1), else kept as text; a repeated key gives a list. */
export function queryAsJsonInput(query: string): string {
  const params = new URLSearchParams(query);
  const out: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key).map(parseValue);
    out[key] = values.length === 1 ? values[0] : values;
  }
  return JSON.stringify(out);
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
