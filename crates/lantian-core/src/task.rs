//! Rectification tasks (整改任务): the status workflow and when a task is
//! overdue. The ledger that stores tasks lives in `lantian-store`; the rules
//! of the workflow are here so every edge (CLI, web) applies the same ones.
//!
//! 未启动 → 推进中 → 已完成 → 已销号. A completed task goes back to 推进中
//! when verification finds it not done (退回); a closed (销号) task is final.

use jiff::civil::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Completed,
    Closed,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] =
        [TaskStatus::NotStarted, TaskStatus::InProgress, TaskStatus::Completed, TaskStatus::Closed];

    /// Stable machine key (CLI, JSON, database).
    pub fn key(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "not_started",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Completed => "completed",
            TaskStatus::Closed => "closed",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "未启动",
            TaskStatus::InProgress => "推进中",
            TaskStatus::Completed => "已完成",
            TaskStatus::Closed => "已销号",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "not started",
            TaskStatus::InProgress => "in progress",
            TaskStatus::Completed => "completed",
            TaskStatus::Closed => "closed",
        }
    }

    /// Accepts the machine key or the Chinese name.
    pub fn parse(s: &str) -> Option<TaskStatus> {
        let s = s.trim();
        TaskStatus::ALL.into_iter().find(|t| t.key() == s || t.zh() == s)
    }

    /// Whether the workflow allows `self → to`.
    pub fn can_move_to(self, to: TaskStatus) -> bool {
        use TaskStatus::*;
        matches!(
            (self, to),
            (NotStarted, InProgress) | (InProgress, Completed) | (Completed, Closed) | (Completed, InProgress)
        )
    }

    /// The moves allowed from `self`.
    pub fn next(self) -> Vec<TaskStatus> {
        TaskStatus::ALL.into_iter().filter(|&t| self.can_move_to(t)).collect()
    }

    /// Still owed work: counts towards overdue.
    pub fn is_open(self) -> bool {
        matches!(self, TaskStatus::NotStarted | TaskStatus::InProgress)
    }
}

/// Why a status move is refused, in words for the user.
pub fn check_move(from: TaskStatus, to: TaskStatus) -> Result<(), String> {
    if from.can_move_to(to) {
        return Ok(());
    }
    let allowed: Vec<String> = from.next().iter().map(|t| format!("{} ({})", t.zh(), t.key())).collect();
    Err(if allowed.is_empty() {
        format!("{} ({}) is final: no further status change", from.zh(), from.key())
    } else {
        format!(
            "cannot move from {} ({}) to {} ({}); allowed: {}",
            from.zh(),
            from.key(),
            to.zh(),
            to.key(),
            allowed.join(", ")
        )
    })
}

/// Overdue: the deadline has passed (the deadline day itself still counts)
/// and the task is neither completed nor closed.
pub fn is_overdue(status: TaskStatus, deadline: Option<Date>, today: Date) -> bool {
    status.is_open() && deadline.is_some_and(|d| today > d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn workflow() {
        use TaskStatus::*;
        assert!(NotStarted.can_move_to(InProgress));
        assert!(InProgress.can_move_to(Completed));
        assert!(Completed.can_move_to(Closed));
        assert!(Completed.can_move_to(InProgress), "returned after verification");
        assert!(!NotStarted.can_move_to(Completed), "work must start before it completes");
        assert!(!NotStarted.can_move_to(Closed));
        assert!(!InProgress.can_move_to(Closed), "only a completed task is closed");
        for t in TaskStatus::ALL {
            assert!(!Closed.can_move_to(t), "closed is final");
            assert!(!t.can_move_to(t), "a move changes the status");
        }
        assert_eq!(check_move(NotStarted, InProgress), Ok(()));
        let e = check_move(InProgress, Closed).unwrap_err();
        assert!(e.contains("推进中") && e.contains("已完成 (completed)"), "{e}");
        assert!(check_move(Closed, InProgress).unwrap_err().contains("final"));
    }

    #[test]
    fn parse_both_names() {
        for t in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(t.key()), Some(t));
            assert_eq!(TaskStatus::parse(t.zh()), Some(t));
        }
        assert_eq!(TaskStatus::parse("done"), None);
    }

    #[test]
    fn overdue() {
        let d = Some(date(2021, 12, 31));
        assert!(!is_overdue(TaskStatus::InProgress, d, date(2021, 12, 31)), "the deadline day itself is not late");
        assert!(is_overdue(TaskStatus::InProgress, d, date(2022, 1, 1)));
        assert!(is_overdue(TaskStatus::NotStarted, d, date(2022, 1, 1)));
        assert!(!is_overdue(TaskStatus::Completed, d, date(2022, 1, 1)));
        assert!(!is_overdue(TaskStatus::Closed, d, date(2022, 1, 1)));
        assert!(!is_overdue(TaskStatus::InProgress, None, date(2099, 1, 1)));
    }
}
