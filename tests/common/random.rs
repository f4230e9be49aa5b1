//! The seeded generator of js-reactivity-benchmark: sfc32 seeded by xmur3a, bit for bit.

/// xmur3a over `seed` (UTF-16 code units, as JavaScript's `charCodeAt`).
pub fn xmur3a(seed: &str) -> impl FnMut() -> u32 {
    let mut h: u32 = 2_166_136_261;
    let units: Vec<u16> = seed.encode_utf16().collect();
    for &unit in &units {
        let mut k = u32::from(unit).wrapping_mul(3_432_918_353);
        k = k.rotate_left(15);
        h ^= k.wrapping_mul(461_845_907);
        h = h.rotate_left(13);
        h = h.wrapping_mul(5).wrapping_add(3_864_292_196);
    }
    h ^= units.len() as u32;
    move || {
        h ^= h >> 16;
        h = h.wrapping_mul(2_246_822_507);
        h ^= h >> 13;
        h = h.wrapping_mul(3_266_489_909);
        h ^= h >> 16;
        h
    }
}

/// sfc32 as written in the benchmark (the counter is bumped before it is added).
pub fn sfc32(mut a: u32, mut b: u32, mut c: u32, mut d: u32) -> impl FnMut() -> f64 {
    move || {
        let mut t = a.wrapping_add(b);
        a = b ^ (b >> 9);
        b = c.wrapping_add(c << 3);
        c = c.rotate_left(21);
        d = d.wrapping_add(1);
        t = t.wrapping_add(d);
        c = c.wrapping_add(t);
        f64::from(t) / 4_294_967_296.0
    }
}

/// `pseudoRandom("seed")` of the benchmark.
pub fn pseudo_random() -> impl FnMut() -> f64 {
    let mut hash = xmur3a("seed");
    let (a, b, c, d) = (hash(), hash(), hash(), hash());
    sfc32(a, b, c, d)
}
