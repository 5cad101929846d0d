//! Evaluation of expression trees: exact big-rational arithmetic first, complex floats after.
//!
//! What it does: evaluates a [`Node`] at a point (an assignment of rational values to its free
//! symbols), exactly when the result is rational (`\frac{6}{8}`, `\sqrt{16}`, `(x+1)^2` at
//! `x = 7/3`) and as a complex `f64` otherwise (`\sqrt{12}`, `\pi`, `\sin 30^\circ`).
//! Why: exact comparison gives no false positives on integers and fractions; floats cover
//! irrationals and functions.
//! Known failure modes: exact exponentiation stops at [`crate::budget::MAX_BITS`] bits and then
//! falls back to floats (which may overflow to infinity: the pair becomes `unknown`).

use crate::ast::{Const, Func, Node};
use crate::budget::{Budget, Exhausted, MAX_BITS};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// A complex number in `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct C64 {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl C64 {
    /// A real number.
    pub const fn real(re: f64) -> Self {
        C64 { re, im: 0.0 }
    }
    /// Not a number.
    pub const NAN: C64 = C64 {
        re: f64::NAN,
        im: f64::NAN,
    };
    fn add(self, o: C64) -> C64 {
        C64 {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
    fn sub(self, o: C64) -> C64 {
        C64 {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }
    fn mul(self, o: C64) -> C64 {
        if self.im == 0.0 && o.im == 0.0 {
            return C64::real(self.re * o.re);
        }
        C64 {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
    fn div(self, o: C64) -> C64 {
        if o.im == 0.0 {
            if o.re == 0.0 {
                return C64::NAN;
            }
            return C64 {
                re: self.re / o.re,
                im: self.im / o.re,
            };
        }
        let d = o.re * o.re + o.im * o.im;
        C64 {
            re: (self.re * o.re + self.im * o.im) / d,
            im: (self.im * o.re - self.re * o.im) / d,
        }
    }
    fn neg(self) -> C64 {
        // `0.0 - x` keeps the imaginary part of a real number at +0.0 (not -0.0), so that
        // `sqrt(-1)` lands on the principal branch `+i`
        C64 {
            re: 0.0 - self.re,
            im: 0.0 - self.im,
        }
    }
    /// Modulus.
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }
    fn is_real(self) -> bool {
        self.im == 0.0 || self.im.abs() <= 1e-12 * self.re.abs().max(1.0)
    }
    /// Both parts finite.
    pub fn is_finite(self) -> bool {
        self.re.is_finite() && self.im.is_finite()
    }
    fn exp(self) -> C64 {
        let m = self.re.exp();
        if self.im == 0.0 {
            return C64::real(m);
        }
        C64 {
            re: m * self.im.cos(),
            im: m * self.im.sin(),
        }
    }
    fn ln(self) -> C64 {
        if self.im == 0.0 && self.re > 0.0 {
            return C64::real(self.re.ln());
        }
        let r = self.abs();
        if r == 0.0 {
            return C64::NAN;
        }
        C64 {
            re: r.ln(),
            im: self.im.atan2(self.re),
        }
    }
    fn pow(self, e: C64) -> C64 {
        if self.is_real() && e.is_real() {
            let (b, x) = (self.re, e.re);
            if b >= 0.0 || x.fract() == 0.0 {
                if b == 0.0 && x < 0.0 {
                    return C64::NAN;
                }
                return C64::real(b.powf(x));
            }
        }
        if self.re == 0.0 && self.im == 0.0 {
            return if e.re > 0.0 { C64::real(0.0) } else { C64::NAN };
        }
        self.ln().mul(e).exp()
    }
    fn sin(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.sin());
        }
        C64 {
            re: self.re.sin() * self.im.cosh(),
            im: self.re.cos() * self.im.sinh(),
        }
    }
    fn cos(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.cos());
        }
        C64 {
            re: self.re.cos() * self.im.cosh(),
            im: -self.re.sin() * self.im.sinh(),
        }
    }
}

/// An assignment of values to free symbols.
#[derive(Debug, Clone, Default)]
pub struct Point {
    /// `(name, value)` pairs.
    pub vars: Vec<(String, BigRational, f64)>,
    /// Interpret `x%` as `x/100` (true) or as `x` (false).
    pub percent_scale: bool,
    /// Interpret `x°` as radians `x·π/180` (true) or as the number `x` (false).
    pub degrees_as_radians: bool,
}

impl Point {
    fn get(&self, s: &str) -> Option<(&BigRational, f64)> {
        self.vars
            .iter()
            .find(|(n, _, _)| n == s)
            .map(|(_, q, f)| (q, *f))
    }
}

fn bits(q: &BigRational) -> u64 {
    q.numer().bits().max(q.denom().bits())
}

/// Exact evaluation; `Ok(None)` when the value is not a (cheap) rational.
pub fn exact(n: &Node, pt: &Point, b: &Budget) -> Result<Option<BigRational>, Exhausted> {
    b.spend(1)?;
    Ok(match n {
        Node::Num { value, .. } => Some(value.clone()),
        Node::Sym(s) => pt.get(s).map(|(q, _)| q.clone()),
        Node::Add(v) => {
            let mut acc = BigRational::zero();
            for x in v {
                match exact(x, pt, b)? {
                    Some(q) => acc += q,
                    None => return Ok(None),
                }
            }
            Some(acc)
        }
        Node::Mul(v) => {
            let mut acc = BigRational::one();
            for x in v {
                match exact(x, pt, b)? {
                    Some(q) => {
                        if bits(&acc) + bits(&q) > MAX_BITS {
                            return Ok(None);
                        }
                        acc *= q
                    }
                    None => return Ok(None),
                }
            }
            Some(acc)
        }
        Node::Neg(a) => exact(a, pt, b)?.map(|q| -q),
        Node::Div(x, y) => match (exact(x, pt, b)?, exact(y, pt, b)?) {
            (Some(p), Some(q)) if !q.is_zero() => {
                if bits(&p) + bits(&q) > MAX_BITS {
                    None
                } else {
                    Some(p / q)
                }
            }
            _ => None,
        },
        Node::Pow(x, e) => match (exact(x, pt, b)?, exact(e, pt, b)?) {
            (Some(p), Some(q)) => pow_exact(&p, &q, b)?,
            _ => None,
        },
        Node::Func(f, a) => match f {
            Func::Abs | Func::Floor | Func::Ceil => exact(a, pt, b)?.map(|q| match f {
                Func::Abs => q.abs(),
                Func::Floor => q.floor(),
                _ => q.ceil(),
            }),
            _ => {
                // sin(0) = 0, cos(0) = 1, ... only the trivial cases
                match exact(a, pt, b)? {
                    Some(q) if q.is_zero() => match f {
                        Func::Sin
                        | Func::Tan
                        | Func::Asin
                        | Func::Atan
                        | Func::Sinh
                        | Func::Tanh => Some(BigRational::zero()),
                        Func::Cos | Func::Sec | Func::Cosh | Func::Exp => Some(BigRational::one()),
                        _ => None,
                    },
                    _ => None,
                }
            }
        },
        Node::Log(x, base) => {
            let xv = exact(x, pt, b)?;
            let bv = match base {
                Some(bn) => exact(bn, pt, b)?,
                None => None,
            };
            match (xv, bv, base.is_some()) {
                (Some(x), _, _) if x.is_one() => Some(BigRational::zero()),
                (Some(x), Some(bv), true) => log_exact(&x, &bv),
                _ => None,
            }
        }
        Node::Binom(n_, k_) => match (exact(n_, pt, b)?, exact(k_, pt, b)?) {
            (Some(n), Some(k)) if n.is_integer() && k.is_integer() => {
                let (n, k) = (n.to_integer().to_i64(), k.to_integer().to_i64());
                match (n, k) {
                    (Some(n), Some(k)) if (0..=5000).contains(&n) => {
                        if k < 0 || k > n {
                            Some(BigRational::zero())
                        } else {
                            b.spend(k as u64)?;
                            let k = k.min(n - k);
                            let mut r = BigInt::one();
                            for j in 0..k {
                                r = r * BigInt::from(n - j) / BigInt::from(j + 1);
                            }
                            Some(BigRational::from_integer(r))
                        }
                    }
                    _ => None,
                }
            }
            _ => None,
        },
        Node::Factorial(a) => match exact(a, pt, b)? {
            Some(q) if q.is_integer() && !q.is_negative() => match q.to_integer().to_u64() {
                Some(k) if k <= 3000 => {
                    b.spend(k)?;
                    let mut r = BigInt::one();
                    for j in 2..=k {
                        r *= j;
                    }
                    Some(BigRational::from_integer(r))
                }
                _ => None,
            },
            _ => None,
        },
        Node::Percent(a) => exact(a, pt, b)?.map(|q| {
            if pt.percent_scale {
                q / BigRational::from_integer(100.into())
            } else {
                q
            }
        }),
        Node::Degree(a) => {
            if pt.degrees_as_radians {
                None
            } else {
                exact(a, pt, b)?
            }
        }
        _ => None,
    })
}

fn pow_exact(
    p: &BigRational,
    e: &BigRational,
    b: &Budget,
) -> Result<Option<BigRational>, Exhausted> {
    if e.is_integer() {
        let Some(n) = e.to_integer().to_i64() else {
            return Ok(None);
        };
        if p.is_zero() {
            return Ok(if n > 0 {
                Some(BigRational::zero())
            } else {
                None
            });
        }
        if p.is_one() {
            return Ok(Some(BigRational::one()));
        }
        if *p == -BigRational::one() {
            return Ok(Some(if n % 2 == 0 {
                BigRational::one()
            } else {
                -BigRational::one()
            }));
        }
        let m = n.unsigned_abs();
        if m > MAX_BITS || bits(p).saturating_mul(m) > MAX_BITS {
            return Ok(None);
        }
        b.spend(bits(p) * m / 64 + 1)?;
        let num = num_traits::pow::pow(p.numer().clone(), m as usize);
        let den = num_traits::pow::pow(p.denom().clone(), m as usize);
        let r = BigRational::new(num, den);
        return Ok(Some(if n < 0 { r.recip() } else { r }));
    }
    // rational exponent k/q: exact only for perfect powers
    let q = e.denom().to_u32().filter(|q| *q <= 64);
    let k = e.numer().to_i64();
    let (Some(q), Some(k)) = (q, k) else {
        return Ok(None);
    };
    if bits(p) > 4096 {
        return Ok(None);
    }
    let neg = p.is_negative();
    if neg && q % 2 == 0 {
        return Ok(None);
    }
    let a = p.abs();
    let rn = a.numer().nth_root(q);
    let rd = a.denom().nth_root(q);
    if num_traits::pow::pow(rn.clone(), q as usize) != *a.numer()
        || num_traits::pow::pow(rd.clone(), q as usize) != *a.denom()
    {
        return Ok(None);
    }
    let mut root = BigRational::new(rn, rd);
    if neg {
        root = -root;
    }
    pow_exact(&root, &BigRational::from_integer(k.into()), b)
}

fn log_exact(x: &BigRational, base: &BigRational) -> Option<BigRational> {
    if *base <= BigRational::zero() || base.is_one() || *x <= BigRational::zero() {
        return None;
    }
    // x = base^k for small integer k (positive or negative)
    let (mut acc, mut k) = (BigRational::one(), 0i64);
    let grows = *base > BigRational::one();
    let target_big = *x > BigRational::one();
    let step = if grows == target_big {
        base.clone()
    } else {
        base.recip()
    };
    let dir = if grows == target_big { 1 } else { -1 };
    while k.abs() < 4096 {
        if acc == *x {
            return Some(BigRational::from_integer(k.into()));
        }
        acc *= &step;
        k += dir;
        if (target_big && acc > *x) || (!target_big && acc < *x) {
            if acc == *x {
                return Some(BigRational::from_integer(k.into()));
            }
            return None;
        }
    }
    None
}

fn to_f64(q: &BigRational) -> f64 {
    q.to_f64().unwrap_or(f64::NAN)
}

/// Floating evaluation (complex). NaN when undefined.
pub fn float(n: &Node, pt: &Point, b: &Budget) -> Result<C64, Exhausted> {
    b.spend(1)?;
    Ok(match n {
        Node::Num { value, .. } => C64::real(to_f64(value)),
        Node::Sym(s) => match pt.get(s) {
            Some((_, f)) => C64::real(f),
            None => C64::NAN,
        },
        Node::Const(c) => match c {
            Const::Pi => C64::real(std::f64::consts::PI),
            Const::E => C64::real(std::f64::consts::E),
            Const::I => C64 { re: 0.0, im: 1.0 },
            Const::Inf => C64::real(f64::INFINITY),
        },
        Node::Add(v) => {
            let mut acc = C64::real(0.0);
            for x in v {
                acc = acc.add(float(x, pt, b)?);
            }
            acc
        }
        Node::Mul(v) => {
            let mut acc = C64::real(1.0);
            for x in v {
                acc = acc.mul(float(x, pt, b)?);
            }
            acc
        }
        Node::Neg(a) => float(a, pt, b)?.neg(),
        Node::Div(x, y) => float(x, pt, b)?.div(float(y, pt, b)?),
        Node::Pow(x, e) => {
            let base = float(x, pt, b)?;
            // real odd roots of negative numbers: (-8)^(1/3) = -2
            if matches!(e.as_ref(), Node::Num { .. } | Node::Div(_, _)) {
                if let Some(q) = exact(e, pt, b)? {
                    if base.is_real() && base.re < 0.0 && !q.is_integer() {
                        if let (Some(k), Some(d)) = (q.numer().to_i64(), q.denom().to_i64()) {
                            if d % 2 == 1 {
                                let r = (-base.re).powf(1.0 / d as f64);
                                let r = if k % 2 == 0 {
                                    r.powi(k.abs() as i32)
                                } else {
                                    -r.powi(k.abs() as i32)
                                };
                                return Ok(C64::real(if k < 0 { 1.0 / r } else { r }));
                            }
                        }
                    }
                }
            }
            base.pow(float(e, pt, b)?)
        }
        Node::Func(f, a) => {
            let trig = matches!(
                f,
                Func::Sin | Func::Cos | Func::Tan | Func::Sec | Func::Csc | Func::Cot
            );
            let x = match a.as_ref() {
                Node::Degree(inner) if trig => {
                    float(inner, pt, b)?.mul(C64::real(std::f64::consts::PI / 180.0))
                }
                _ => float(a, pt, b)?,
            };
            apply_func(*f, x)
        }
        Node::Log(x, base) => {
            let v = float(x, pt, b)?.ln();
            match base {
                Some(bn) => v.div(float(bn, pt, b)?.ln()),
                None => v,
            }
        }
        Node::Binom(_, _) | Node::Factorial(_) => match exact(n, pt, b)? {
            Some(q) => C64::real(to_f64(&q)),
            None => C64::NAN,
        },
        Node::Percent(a) => {
            let v = float(a, pt, b)?;
            if pt.percent_scale {
                v.div(C64::real(100.0))
            } else {
                v
            }
        }
        Node::Degree(a) => {
            let v = float(a, pt, b)?;
            if pt.degrees_as_radians {
                v.mul(C64::real(std::f64::consts::PI / 180.0))
            } else {
                v
            }
        }
        _ => C64::NAN,
    })
}

fn apply_func(f: Func, x: C64) -> C64 {
    let real = |g: fn(f64) -> f64| {
        if x.is_real() {
            C64::real(g(x.re))
        } else {
            C64::NAN
        }
    };
    match f {
        Func::Sin => x.sin(),
        Func::Cos => x.cos(),
        Func::Tan => x.sin().div(x.cos()),
        Func::Sec => C64::real(1.0).div(x.cos()),
        Func::Csc => C64::real(1.0).div(x.sin()),
        Func::Cot => x.cos().div(x.sin()),
        Func::Asin => real(f64::asin),
        Func::Acos => real(f64::acos),
        Func::Atan => real(f64::atan),
        Func::Sinh => real(f64::sinh),
        Func::Cosh => real(f64::cosh),
        Func::Tanh => real(f64::tanh),
        Func::Ln => x.ln(),
        Func::Exp => x.exp(),
        Func::Abs => C64::real(x.abs()),
        Func::Floor => real(f64::floor),
        Func::Ceil => real(f64::ceil),
    }
}

/// Relative closeness of two complex values.
pub fn close(a: C64, b: C64, rel: f64) -> bool {
    if !a.is_finite() || !b.is_finite() {
        return false;
    }
    let d = a.sub(b).abs();
    let m = a.abs().max(b.abs());
    d <= rel * m || d <= 1e-12
}

/// Relative closeness of two rationals (`|a-b| <= rel * max(|a|,|b|)`), with `rel` given as a
/// rational.
pub fn close_exact(a: &BigRational, b: &BigRational, rel: &BigRational) -> bool {
    let d = (a - b).abs();
    let m = a.abs().max(b.abs());
    d <= rel * m
}
