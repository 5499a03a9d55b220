// graphql-http's audit of the GraphQL-over-HTTP spec against a running server: one JSON line a finding.
// Run by graphql_api/tests/test_graphql_over_http.py: node testing/graphql_http_audit.mjs http://host:port/graphql
import { auditServer } from "graphql-http";

const results = await auditServer({ url: process.argv[2] });
for (const result of results) {
  const { id, name, status, reason } = result;
  console.log(JSON.stringify({ id, name, status, reason: reason ?? null }));
}
