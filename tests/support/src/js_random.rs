//! The seeded generator of js-reactivity-benchmark (shared by the reactive tests and the
//! benchmarks), as the reactively benchmark defines it (`pseudoRandom("seed")`): sfc32 seeded by
//! xmur3a, bit-exact with the JS version (wrapping 32-bit arithmetic, result in [0, 1)).

/// xmur3a: a MurmurHash3-style seed generator over the UTF-16 code units of `seed`.
fn xmur3a(seed: &str) -> impl FnMut() -> u32 {
    let mut h: u32 = 2_166_136_261;
    let mut len = 0u32;
    for unit in seed.encode_utf16() {
        let mut k = u32::from(unit).wrapping_mul(3_432_918_353);
        k = k.rotate_left(15);
        h ^= k.wrapping_mul(461_845_907);
        h = h.rotate_left(13);
        h = h.wrapping_mul(5).wrapping_add(3_864_292_196);
        len += 1;
    }
    h ^= len;
    move || {
        h ^= h >> 16;
        h = h.wrapping_mul(2_246_822_507);
        h ^= h >> 13;
        h = h.wrapping_mul(3_266_489_909);
        h ^= h >> 16;
        h
    }
}

/// The sfc32 generator, as `pseudoRandom(seed)` builds it.
#[derive(Debug, Clone)]
pub struct PseudoRandom {
    a: u32,
    b: u32,
    c: u32,
    d: u32,
}

impl PseudoRandom {
    /// `pseudoRandom(seed)`: sfc32 over four xmur3a outputs.
    pub fn new(seed: &str) -> Self {
        let mut hash = xmur3a(seed);
        let (a, b, c, d) = (hash(), hash(), hash(), hash());
        Self { a, b, c, d }
    }

    /// The next number in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        let mut t = self.a.wrapping_add(self.b);
        self.a = self.b ^ (self.b >> 9);
        self.b = self.c.wrapping_add(self.c << 3);
        self.c = self.c.rotate_left(21);
        self.d = self.d.wrapping_add(1);
        t = t.wrapping_add(self.d);
        self.c = self.c.wrapping_add(t);
        f64::from(t) / 4_294_967_296.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_numbers_in_the_unit_interval_deterministically() {
        let mut a = PseudoRandom::new("seed");
        let mut b = PseudoRandom::new("seed");
        for _ in 0..1000 {
            let x = a.next_f64();
            assert!((0.0..1.0).contains(&x));
            assert_eq!(x.to_bits(), b.next_f64().to_bits());
        }
    }
}
