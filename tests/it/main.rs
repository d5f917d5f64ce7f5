//! dbtool's integration tests: one binary, the real `dbtool` executable, a real PostgreSQL.

mod check_url;
mod ci_examples;
mod cited_paths;
mod cli;
mod completions;
mod convention_from;
mod driver_traffic;
mod exit_codes;
mod fuzz_corpus;
mod hardening;
mod hostile_arguments;
mod layers;
mod libpq_cases;
mod libpq_libpq_001_uri;
mod libpq_oracle_diff;
mod libpq_roundtrip;
mod lint;
mod lint_alembic;
mod lint_ci;
mod lint_files;
mod lint_fix;
mod naming_no_panic;
mod naming_postgres_fixture;
mod naming_sqlalchemy_fixture;
#[allow(dead_code)] // the harness serves later modules too
mod pg;
mod ping;
mod ping_matrix;
mod pool_bench;
mod pool_bench_app;
mod poolers;
mod settings;
mod settings_oracle;
mod target_agreement;
mod url_oracle;
mod url_properties;
