"""The wire contract with the original: topology, Avro schemas and records, codecs, headers, and the sync."""
