//! Quantiles of the two distributions the advice assumes for the number of requests wanting a
//! connection at once: Poisson (independent arrivals, any hold-time distribution: M/G/∞) and
//! binomial (independent clients, each holding a connection a share of the time). Pure functions,
//! exact summation except for very large Poisson means.

/// The smallest k with P(X ≤ k) ≥ `quantile` for X Poisson with this mean.
pub(super) fn poisson_quantile(mean: f64, quantile: f64) -> u32 {
    if !(mean.is_finite() && mean > 0.0) {
        return 0;
    }
    if mean > 500.0 {
        // e^-mean underflows beyond ~700; the normal approximation is exact enough this far out.
        let z = normal_quantile(quantile);
        return (mean + z * mean.sqrt() + 0.5)
            .ceil()
            .min(f64::from(u32::MAX)) as u32;
    }
    let mut probability = (-mean).exp();
    let mut cumulative = probability;
    let mut k = 0u32;
    while cumulative < quantile && k < 100_000 {
        k += 1;
        probability *= mean / f64::from(k);
        cumulative += probability;
    }
    k
}

/// The smallest k with P(X ≤ k) ≥ `quantile` for X binomial with `n` trials of probability `p`.
pub(super) fn binomial_quantile(n: u32, p: f64, quantile: f64) -> u32 {
    if !(p.is_finite() && p > 0.0) {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    // In logarithms: (1 - p)^n underflows for large n.
    let odds = (p / (1.0 - p)).ln();
    let mut log_probability = f64::from(n) * (1.0 - p).ln();
    let mut cumulative = log_probability.exp();
    let mut k = 0u32;
    while cumulative < quantile && k < n {
        log_probability += (f64::from(n - k) / f64::from(k + 1)).ln() + odds;
        k += 1;
        cumulative += log_probability.exp();
    }
    k
}

/// The standard normal quantile for the few values used here (Acklam's rational approximation
/// would be overkill for p ≥ 0.9).
fn normal_quantile(quantile: f64) -> f64 {
    // Abramowitz & Stegun 26.2.23, |error| < 4.5e-4.
    let t = (-2.0 * (1.0 - quantile).ln()).sqrt();
    t - (2.515517 + 0.802853 * t + 0.010328 * t * t)
        / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_the_distributions() {
        // Poisson(4.1): P(X ≤ 8) = 0.976, P(X ≤ 9) = 0.990.
        assert_eq!(poisson_quantile(4.1, 0.99), 9);
        // Poisson(1): P(X ≤ 3) = 0.981, P(X ≤ 4) = 0.9963.
        assert_eq!(poisson_quantile(1.0, 0.99), 4);
        assert_eq!(poisson_quantile(0.0, 0.99), 0);
        let large = poisson_quantile(10_000.0, 0.99);
        assert!((10_230..=10_236).contains(&large), "{large}");
        // Exact: 10,310.
        let large = poisson_quantile(10_000.0, 0.999);
        assert!((10_306..=10_314).contains(&large), "{large}");
        // Binomial(20, 0.2): P(X ≤ 8) = 0.990, P(X ≤ 7) = 0.968.
        assert_eq!(binomial_quantile(20, 0.2, 0.99), 8);
        assert_eq!(binomial_quantile(20, 1.0, 0.99), 20);
        assert_eq!(binomial_quantile(10_000, 0.5, 0.99), 5116);
    }
}
