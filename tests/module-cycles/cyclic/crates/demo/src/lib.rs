//! A crate whose modules import each other: scripts/module-cycles.py must
//! name `a, b` and fail (scripts/test.sh checks that it does).
mod a;
mod b;
