//! The one ranking of strategies, used by every report: like with like.
//!
//! A strategy that refuses usage (the cap, or flex switched off) buys less service, so its
//! lower bill is not a saving. Only the strategies refusing the least usage compete (usually
//! those refusing none); among them the lowest cost ranks first, ties keep the listed order.
//! The rest are set apart, never called cheaper.

use crate::model::amounts::{Credits, Money};

/// What a strategy is ranked on: the usage it refused and what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contender {
    pub refused: Credits,
    pub cost: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranking {
    /// Indices of the strategies refusing the least usage, cheapest first.
    pub ranked: Vec<usize>,
    /// The others (refusing more), cheapest first.
    pub apart: Vec<usize>,
    /// The usage every ranked strategy refused (zero when some serve everything).
    pub least_refused: Credits,
}

impl Ranking {
    /// The first ranked strategy.
    pub fn cheapest(&self) -> usize {
        self.ranked[0]
    }
}

/// Ranks `contenders` (at least one), like with like.
pub fn rank(contenders: &[Contender]) -> Ranking {
    assert!(!contenders.is_empty(), "at least one strategy to rank");
    let least_refused = contenders
        .iter()
        .map(|c| c.refused)
        .min()
        .expect("at least one");
    let mut order: Vec<usize> = (0..contenders.len()).collect();
    order.sort_by_key(|&i| (contenders[i].cost, i));
    let (ranked, apart) = order
        .into_iter()
        .partition(|&i| contenders[i].refused == least_refused);
    Ranking {
        ranked,
        apart,
        least_refused,
    }
}

/// Strategy `s`'s share of being the cheapest among `contenders`, in millionths: costs within
/// `tie_within` of the lowest share it equally (a three-way tie loses 1e-6, far below what
/// any report shows). Zero when `s` does not compete (it refused more than the least).
pub fn cheapest_share_e6(contenders: &[Contender], s: usize, tie_within: Money) -> u64 {
    let least_refused = contenders
        .iter()
        .map(|c| c.refused)
        .min()
        .expect("at least one strategy");
    if contenders[s].refused != least_refused {
        return 0;
    }
    let eligible = || contenders.iter().filter(|c| c.refused == least_refused);
    let min = eligible().map(|c| c.cost).min().expect("s is eligible");
    let tied = |c: &Contender| c.cost - min <= tie_within;
    if !tied(&contenders[s]) {
        return 0;
    }
    1_000_000 / eligible().filter(|c| tied(c)).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(refused: i64, cost: i64) -> Contender {
        Contender {
            refused: Credits::from_micros(refused * 1_000_000),
            cost: Money::from_micros(cost * 1_000_000),
        }
    }

    #[test]
    fn refusing_usage_is_never_cheaper() {
        // 1 refuses 3 credits and costs 20; 0 and 2 serve all at 26: they rank, tied, in
        // listed order; 1 is apart.
        let r = rank(&[c(0, 26), c(3, 20), c(0, 26)]);
        assert_eq!(r.ranked, vec![0, 2]);
        assert_eq!(r.apart, vec![1]);
        assert_eq!(r.cheapest(), 0);
        assert!(r.least_refused.is_zero());
    }

    #[test]
    fn when_all_refuse_the_least_refusing_compete() {
        // 0 refuses 5, 1 refuses 2, 2 refuses 2: 1 and 2 compete, 2 is cheaper.
        let r = rank(&[c(5, 1), c(2, 30), c(2, 10)]);
        assert_eq!(r.ranked, vec![2, 1]);
        assert_eq!(r.apart, vec![0]);
        assert_eq!(r.least_refused, Credits::from_micros(2_000_000));
    }

    #[test]
    fn ties_share_the_cheapest_place() {
        let all = [c(0, 10), c(0, 10), c(0, 11), c(1, 1)];
        assert_eq!(cheapest_share_e6(&all, 0, Money::ZERO), 500_000);
        assert_eq!(cheapest_share_e6(&all, 2, Money::ZERO), 0);
        assert_eq!(cheapest_share_e6(&all, 3, Money::ZERO), 0);
        // Within 1 of the lowest counts as a tie: three share it.
        let within = Money::from_micros(1_000_000);
        assert_eq!(cheapest_share_e6(&all, 2, within), 333_333);
    }
}
