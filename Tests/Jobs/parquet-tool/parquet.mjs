// Writes and reads Parquet files with Apache Arrow's Rust implementation (parquet-wasm) and Arrow JS, for the tests.
//   node parquet.mjs write OUT COMPRESSION ROWS_PER_GROUP < {"name": {"type": "utf8|int64|int32|float64|bool", "values": [...]}, ...}
//   node parquet.mjs read FILE > {"columns": [{"name", "type"}], "rows": [{...}, ...]}
import { readFileSync, writeFileSync } from "node:fs";
import * as arrow from "apache-arrow";
import * as parquet from "parquet-wasm/node";

const types = {
  utf8: () => new arrow.Utf8(),
  int64: () => new arrow.Int64(),
  int32: () => new arrow.Int32(),
  float64: () => new arrow.Float64(),
  bool: () => new arrow.Bool(),
};

const [command, file, compression, rowsPerGroup] = process.argv.slice(2);
if (command === "write") {
  const spec = JSON.parse(readFileSync(0, "utf8"));
  const vectors = {};
  for (const [name, { type, values }] of Object.entries(spec)) {
    vectors[name] = arrow.vectorFromArray(type === "int64" ? values.map(v => (v === null ? null : BigInt(v))) : values, types[type]());
  }
  const table = parquet.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(vectors), "stream"));
  const properties = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression[compression])
    .setMaxRowGroupSize(Number(rowsPerGroup))
    .build();
  writeFileSync(file, parquet.writeParquet(table, properties));
} else if (command === "read") {
  const table = arrow.tableFromIPC(parquet.readParquet(readFileSync(file)).intoIPCStream());
  const columns = table.schema.fields.map(f => ({ name: f.name, type: String(f.type) }));
  const rows = table.toArray().map(r => Object.fromEntries(Object.entries(r.toJSON()).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])));
  process.stdout.write(JSON.stringify({ columns, rows }));
} else {
  console.error("usage: parquet.mjs write OUT COMPRESSION ROWS_PER_GROUP < spec.json | parquet.mjs read FILE");
  process.exit(2);
}
