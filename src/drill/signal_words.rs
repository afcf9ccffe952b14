//! Signals, their values and durations in plain words, for texts people read away from the
//! dashboard: runbooks, `gameday sessions` and postmortems. `p95 latency above 1.00 s`, not
//! `latency_p95 > 1`.

use crate::alerts::Comparison;
use crate::i18n::Lang;
use crate::signals::Signal;

use super::case::Condition;

/// What a signal measures, in a few words.
pub fn signal_name(signal: Signal, lang: Lang) -> &'static str {
    let (en, ru) = match signal {
        Signal::LatencyP50 => ("p50 latency", "p50 задержки"),
        Signal::LatencyP95 => ("p95 latency", "p95 задержки"),
        Signal::LatencyP99 => ("p99 latency", "p99 задержки"),
        Signal::Rps => ("request rate", "частота запросов"),
        Signal::ErrorRatio => ("error ratio", "доля ошибок"),
        Signal::ActiveTransactions => ("active transactions", "активные транзакции"),
        Signal::PoolInUse => ("database connections in use", "занятые соединения БД"),
        Signal::PoolIdle => ("idle database connections", "свободные соединения БД"),
        Signal::QueuedRequests => (
            "requests waiting for a worker",
            "запросы в очереди к воркерам",
        ),
        Signal::MemoryBytes => ("memory in use", "занятая память"),
        Signal::MemoryLimitBytes => ("memory limit", "лимит памяти"),
        Signal::Restarts => ("restarts of the app", "перезапуски приложения"),
        Signal::CpuCores => ("CPU in use", "загрузка CPU"),
        Signal::Up => (
            "API answering (1) or not (0)",
            "API отвечает (1) или нет (0)",
        ),
        Signal::LatencyP95Over5m => ("p95 latency over 5 minutes", "p95 задержки за 5 минут"),
        Signal::ErrorRatioOver5m => ("error ratio over 5 minutes", "доля ошибок за 5 минут"),
        Signal::BalanceLatencyP95 => ("p95 latency of /api/balance", "p95 задержки /api/balance"),
        Signal::BalanceErrorRatio => ("error ratio of /api/balance", "доля ошибок /api/balance"),
        Signal::UpstreamUp => (
            "provider answering (1) or not (0)",
            "провайдер отвечает (1) или нет (0)",
        ),
        Signal::UpstreamLatencyP95 => (
            "p95 latency of provider calls",
            "p95 задержки вызовов провайдера",
        ),
        Signal::UpstreamRps => ("provider calls per second", "вызовов провайдера в секунду"),
        Signal::UpstreamErrorRatio => (
            "share of failed provider calls",
            "доля неудачных вызовов провайдера",
        ),
        Signal::BreakerState => (
            "circuit breaker (0 closed, 1 half-open, 2 open)",
            "автомат (0 закрыт, 1 полуоткрыт, 2 открыт)",
        ),
        Signal::BulkheadInUse => ("provider calls in flight", "вызовов провайдера в работе"),
        Signal::RetriesRate => ("retries per second", "повторов в секунду"),
        Signal::PaymentsFailedRatio => ("share of payments failed", "доля неудавшихся платежей"),
        Signal::PaymentsPending => ("payments pending", "платежей в ожидании"),
        Signal::PaymentsCompletedLate => (
            "payments completed late (since the start)",
            "платежей, проведённых с опозданием (с запуска)",
        ),
        Signal::WebhooksRejectedRate => (
            "webhooks refused per second",
            "отклонённых вебхуков в секунду",
        ),
        Signal::WebhooksDuplicateRate => {
            ("duplicate webhooks per second", "дублей вебхуков в секунду")
        }
        Signal::DoubleCredits => ("events credited twice", "событий, зачисленных дважды"),
        Signal::BreakerStateMax1m => (
            "circuit breaker's highest state over 1 minute",
            "высшее состояние автомата за 1 минуту",
        ),
        Signal::WebhooksRejected5m => (
            "webhooks refused over 5 minutes",
            "отклонённых вебхуков за 5 минут",
        ),
        Signal::PaymentsFailedRatioOver5m => (
            "share of payments failed over 5 minutes",
            "доля неудавшихся платежей за 5 минут",
        ),
    };
    match lang {
        Lang::En => en,
        Lang::Ru => ru,
    }
}

/// A value of `signal` with its unit: `45 ms`, `2.40 s`, `30 %`, `512 MiB`, `19.5 req/s`.
pub fn signal_value(signal: Signal, value: f64, lang: Lang) -> String {
    let ru = lang == Lang::Ru;
    match signal {
        Signal::LatencyP50
        | Signal::LatencyP95
        | Signal::LatencyP99
        | Signal::LatencyP95Over5m
        | Signal::BalanceLatencyP95
        | Signal::UpstreamLatencyP95 => {
            let ms = value * 1000.0;
            let (ms_unit, s_unit) = if ru { ("мс", "с") } else { ("ms", "s") };
            if ms < 10.0 {
                format!("{ms:.1} {ms_unit}")
            } else if ms < 1000.0 {
                format!("{ms:.0} {ms_unit}")
            } else {
                format!("{value:.2} {s_unit}")
            }
        }
        Signal::ErrorRatio
        | Signal::ErrorRatioOver5m
        | Signal::BalanceErrorRatio
        | Signal::UpstreamErrorRatio
        | Signal::PaymentsFailedRatio
        | Signal::PaymentsFailedRatioOver5m => {
            let percent = value * 100.0;
            if percent > 0.0 && percent < 10.0 {
                format!("{percent:.1} %")
            } else {
                format!("{percent:.0} %")
            }
        }
        Signal::Rps | Signal::UpstreamRps => {
            format!("{value:.1} {}", if ru { "запр/с" } else { "req/s" })
        }
        Signal::RetriesRate | Signal::WebhooksRejectedRate | Signal::WebhooksDuplicateRate => {
            format!("{value:.1} {}", if ru { "в с" } else { "/s" })
        }
        Signal::MemoryBytes | Signal::MemoryLimitBytes => {
            const MIB: f64 = 1024.0 * 1024.0;
            let (mib, gib) = if ru {
                ("МиБ", "ГиБ")
            } else {
                ("MiB", "GiB")
            };
            if value >= 1024.0 * MIB {
                format!("{:.2} {gib}", value / (1024.0 * MIB))
            } else {
                format!("{:.0} {mib}", value / MIB)
            }
        }
        Signal::CpuCores => format!("{value:.2} {}", if ru { "ядра" } else { "cores" }),
        Signal::ActiveTransactions
        | Signal::PoolInUse
        | Signal::PoolIdle
        | Signal::QueuedRequests
        | Signal::Restarts
        | Signal::Up
        | Signal::UpstreamUp
        | Signal::BreakerState
        | Signal::BreakerStateMax1m
        | Signal::BulkheadInUse
        | Signal::PaymentsPending
        | Signal::PaymentsCompletedLate
        | Signal::DoubleCredits
        | Signal::WebhooksRejected5m => {
            if value.fract() == 0.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.1}")
            }
        }
    }
}

/// `above` or `below` in `lang`.
pub fn comparison_word(comparison: Comparison, lang: Lang) -> &'static str {
    match (comparison, lang) {
        (Comparison::Above, Lang::En) => "above",
        (Comparison::Below, Lang::En) => "below",
        (Comparison::Above, Lang::Ru) => "выше",
        (Comparison::Below, Lang::Ru) => "ниже",
    }
}

/// `p95 latency above 1.00 s`.
pub fn condition_words(condition: &Condition, lang: Lang) -> String {
    format!(
        "{} {} {}",
        signal_name(condition.signal, lang),
        comparison_word(condition.comparison, lang),
        signal_value(condition.signal, condition.threshold, lang)
    )
}

/// A duration in seconds: `9.0 s` under a minute, `3 min 05 s` above.
pub fn duration_words(seconds: f64, lang: Lang) -> String {
    let (min, s) = match lang {
        Lang::En => ("min", "s"),
        Lang::Ru => ("мин", "с"),
    };
    if seconds.abs() < 60.0 {
        return format!("{seconds:.1} {s}");
    }
    let whole = seconds.round() as i64;
    let sign = if whole < 0 { "-" } else { "" };
    let whole = whole.abs();
    format!("{sign}{} {min} {:02} {s}", whole / 60, whole % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_carry_their_units_in_both_languages() {
        assert_eq!(signal_value(Signal::LatencyP95, 0.11, Lang::En), "110 ms");
        assert_eq!(signal_value(Signal::LatencyP95, 2.4, Lang::Ru), "2.40 с");
        assert_eq!(signal_value(Signal::ErrorRatio, 0.3, Lang::En), "30 %");
        assert_eq!(
            signal_value(Signal::MemoryBytes, 512.0 * 1048576.0, Lang::En),
            "512 MiB"
        );
        assert_eq!(signal_value(Signal::Rps, 19.96, Lang::En), "20.0 req/s");
        assert_eq!(
            signal_value(Signal::ActiveTransactions, 12.0, Lang::En),
            "12"
        );
        assert_eq!(duration_words(9.0, Lang::En), "9.0 s");
        assert_eq!(duration_words(185.0, Lang::Ru), "3 мин 05 с");
    }

    #[test]
    fn a_condition_reads_as_words() {
        let condition = Condition {
            signal: Signal::LatencyP95,
            comparison: Comparison::Above,
            threshold: 1.0,
        };
        assert_eq!(
            condition_words(&condition, Lang::En),
            "p95 latency above 1.00 s"
        );
        assert_eq!(
            condition_words(&condition, Lang::Ru),
            "p95 задержки выше 1.00 с"
        );
    }
}
