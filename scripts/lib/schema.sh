# Sourced by the benchmark scripts: build_schema URL TABLES creates TABLES tables, each with a
# primary key, a foreign key, a unique constraint, a check and one index, all with PostgreSQL's
# default names, in batches of 1,000 per transaction.
build_schema() {
  local url=$1 tables=$2 from
  psql -X -q "$url" -c "CREATE TABLE IF NOT EXISTS parent (id int PRIMARY KEY)"
  for ((from = 1; from <= tables; from += 1000)); do
    local to=$((from + 999 < tables ? from + 999 : tables))
    psql -X -q "$url" -c "DO \$\$ BEGIN FOR i IN $from..$to LOOP
      EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, parent_id int REFERENCES parent (id),
                      code text UNIQUE, amount int CHECK (amount > 0), status text)', i);
      EXECUTE format('CREATE INDEX ON t%s (status)', i);
    END LOOP; END \$\$;"
  done
}
