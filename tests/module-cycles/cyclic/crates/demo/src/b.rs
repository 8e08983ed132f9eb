//! Uses `a` back.
use super::a;

pub fn g() -> u8 {
    let _ = a::f;
    1
}
