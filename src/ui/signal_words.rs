//! Signals in the words a participant reads on the panels, not their identifiers.

use crate::i18n::Lang;
use crate::signals::Signal;

pub fn signal_words(signal: Signal, lang: Lang) -> &'static str {
    match lang {
        Lang::En => match signal {
            Signal::LatencyP50 => "median latency (p50)",
            Signal::LatencyP95 => "p95 latency",
            Signal::LatencyP99 => "p99 latency",
            Signal::LatencyP95Over5m => "p95 latency over 5 minutes",
            Signal::Rps => "requests per second",
            Signal::ErrorRatio => "error ratio (5xx)",
            Signal::ErrorRatioOver5m => "error ratio over 5 minutes",
            Signal::ActiveTransactions => "active transactions",
            Signal::PoolInUse => "database connections in use",
            Signal::PoolIdle => "idle database connections",
            Signal::QueuedRequests => "requests waiting for a worker",
            Signal::MemoryBytes => "memory",
            Signal::MemoryLimitBytes => "memory limit",
            Signal::Restarts => "restarts",
            Signal::CpuCores => "CPU",
            Signal::Up => "the API's health",
        },
        Lang::Ru => match signal {
            Signal::LatencyP50 => "медианная задержка (p50)",
            Signal::LatencyP95 => "задержка p95",
            Signal::LatencyP99 => "задержка p99",
            Signal::LatencyP95Over5m => "задержка p95 за 5 минут",
            Signal::Rps => "запросов в секунду",
            Signal::ErrorRatio => "доля ошибок (5xx)",
            Signal::ErrorRatioOver5m => "доля ошибок за 5 минут",
            Signal::ActiveTransactions => "активные транзакции",
            Signal::PoolInUse => "занятые соединения с базой",
            Signal::PoolIdle => "свободные соединения с базой",
            Signal::QueuedRequests => "запросы в очереди к воркерам",
            Signal::MemoryBytes => "память",
            Signal::MemoryLimitBytes => "лимит памяти",
            Signal::Restarts => "перезапуски",
            Signal::CpuCores => "CPU",
            Signal::Up => "здоровье API",
        },
    }
}
