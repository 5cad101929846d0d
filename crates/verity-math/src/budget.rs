//! Step budget shared by the parser and the evaluator.
//!
//! What it does: counts abstract work units (parser steps, evaluation nodes, big-integer size)
//! and fails once a per-pair limit is reached.
//! Why: a pathological answer (deep nesting, `9^{9^{9^9}}`, megabyte strings) must end in an
//! `unknown` verdict with a reason instead of hanging or exhausting memory.
//! Known failure modes: the budget bounds steps, not wall-clock time; one step of big-integer
//! arithmetic is bounded separately by [`MAX_BITS`].

use std::cell::Cell;

/// Largest big-integer size (in bits) exact arithmetic may produce before falling back to floats.
pub const MAX_BITS: u64 = 1 << 16;

/// Why a budgeted computation stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exhausted {
    /// Too many steps for this pair.
    Steps,
    /// Nesting deeper than the limit.
    Depth,
}

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exhausted::Steps => write!(f, "step budget exhausted"),
            Exhausted::Depth => write!(f, "nesting too deep"),
        }
    }
}

/// A per-pair step counter.
#[derive(Debug)]
pub struct Budget {
    used: Cell<u64>,
    limit: u64,
}

impl Budget {
    /// A budget of `limit` steps.
    pub fn new(limit: u64) -> Self {
        Budget {
            used: Cell::new(0),
            limit,
        }
    }

    /// Spend `n` steps; fails once the limit is passed.
    #[inline]
    pub fn spend(&self, n: u64) -> Result<(), Exhausted> {
        let u = self.used.get().saturating_add(n);
        self.used.set(u);
        if u > self.limit {
            Err(Exhausted::Steps)
        } else {
            Ok(())
        }
    }

    /// Steps used so far.
    pub fn used(&self) -> u64 {
        self.used.get()
    }
}
