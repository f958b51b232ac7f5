//! The accountability policy: the facts each area is judged on, a policy
//! run recorded in the ledger (one transaction, idempotent), restrictions
//! lifted when their condition holds, and the action ledger's tables.

use crate::assess::{AreaLevel, CityPeriod, Source, assess_period, county_period, region_period};
use crate::basis::Basis;
use crate::days::Days;
use crate::days::StoreDays;
use crate::table::{Cell, Col, Table};
use crate::targets::check_targets;
use crate::{Ctx, View, parse_period, shift_year};
use anyhow::{Context, Result, bail};
use jiff::civil::Date;
use lantian_core::Edition;
use lantian_core::period::{PeriodStats, competition_rank};
use lantian_core::policy::{Facts, amount as policy_amount, evaluate};
use lantian_core::target::Status;
use lantian_core::time::day_number;
use std::collections::BTreeMap;
use std::path::Path;

const SAMPLE_POLICY: &str = include_str!("../../../sample/policy-sichuan.toml");

/// The policy file given, else DATA/policy.toml, else the built-in sample;
/// with where it came from.
pub fn load_policy(ctx: &Ctx, file: Option<&Path>) -> Result<(lantian_core::policy::Policy, String)> {
    let installed = ctx.data.join("policy.toml");
    let (text, origin) = match file {
        Some(f) => {
            (std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?, f.display().to_string())
        }
        None if installed.exists() => (std::fs::read_to_string(&installed)?, installed.display().to_string()),
        None => (SAMPLE_POLICY.to_string(), "sample/policy-sichuan.toml (built in)".to_string()),
    };
    let policy: lantian_core::policy::Policy = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| format!(" line {}", 1 + text[..s.start.min(text.len())].matches('\n').count()))
            .unwrap_or_default();
        anyhow::anyhow!("{origin}{line}: {}", e.message())
    })?;
    for r in &policy.rule {
        for d in [&r.effective_from, &r.effective_to].into_iter().flatten() {
            d.parse::<Date>().map_err(|e| anyhow::anyhow!("{origin}: rule {}: date '{d}': {e}", r.id))?;
        }
    }
    Ok((policy, origin))
}

/// Facts for every city in `from..=to` (see `lantian_core::policy::Facts`).
fn policy_facts(
    ctx: &Ctx,
    store: &dyn Days,
    policy: &lantian_core::policy::Policy,
    from: Date,
    to: Date,
    level: AreaLevel,
) -> Result<BTreeMap<String, Facts>> {
    let areas = if level == AreaLevel::City { None } else { Some(ctx.areas()?) };
    let level_period = |from: Date, to: Date| -> Result<Vec<CityPeriod>> {
        match (&areas, level) {
            (Some(a), AreaLevel::County) => county_period(store, a, from, to, None),
            (Some(a), AreaLevel::Region) => region_period(store, a, from, to, None, Source::Auto),
            _ => assess_period(store, &[], from, to, None, Source::Auto),
        }
    };
    let cur = level_period(from, to)?;
    let prev: BTreeMap<String, PeriodStats> =
        level_period(shift_year(from, 1), shift_year(to, 1))?.into_iter().map(|c| (c.city, c.stats)).collect();
    let jan1 = Date::new(to.year(), 1, 1)?;
    let ytd: BTreeMap<String, PeriodStats> = level_period(jan1, to)?.into_iter().map(|c| (c.city, c.stats)).collect();
    let ytd_prev: BTreeMap<String, PeriodStats> =
        level_period(shift_year(jan1, 1), shift_year(to, 1))?.into_iter().map(|c| (c.city, c.stats)).collect();
    let cur: Vec<CityPeriod> = cur.into_iter().filter(|c| c.stats.valid_days > 0).collect();
    let ranks = competition_rank(&cur.iter().map(|c| c.stats.composite_index).collect::<Vec<_>>());
    let n_ranked = ranks.iter().filter(|r| r.is_some()).count() as u32;
    // Monthly PM2.5 up-streaks, only when a rule asks for them.
    let needs_months = policy.rule.iter().any(|r| r.when.pm25_up_consecutive_months.is_some());
    let mut streaks: BTreeMap<String, u32> = BTreeMap::new();
    let mut broken: std::collections::BTreeSet<String> = Default::default();
    if needs_months {
        let mut month = to.first_of_month();
        for _ in 0..12 {
            let (m0, m1) = (month, month.last_of_month());
            let now: BTreeMap<String, Option<f64>> =
                level_period(m0, m1)?.into_iter().map(|c| (c.city, c.stats.pm25)).collect();
            let then: BTreeMap<String, Option<f64>> = level_period(shift_year(m0, 1), shift_year(m1, 1))?
                .into_iter()
                .map(|c| (c.city, c.stats.pm25))
                .collect();
            for c in &cur {
                if broken.contains(&c.city) {
                    continue;
                }
                match (now.get(&c.city).copied().flatten(), then.get(&c.city).copied().flatten()) {
                    (Some(a), Some(b)) if a > b => *streaks.entry(c.city.clone()).or_default() += 1,
                    (Some(_), Some(_)) => {
                        streaks.entry(c.city.clone()).or_default();
                        broken.insert(c.city.clone());
                    }
                    _ => {
                        broken.insert(c.city.clone());
                    }
                }
            }
            month = month.checked_sub(jiff::Span::new().months(1))?;
        }
    }
    // Targets as of the period's end, when installed.
    let mut missed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut met: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let targets_path = ctx.data.join("targets.toml");
    if targets_path.exists() {
        let targets = lantian_store::targets::Targets::load(&targets_path)?;
        for t in check_targets(store, &targets, to)? {
            match t.status {
                Status::Missed => missed.entry(t.area).or_default().push(t.indicator.to_string()),
                Status::Met => met.entry(t.area).or_default().push(t.indicator.to_string()),
                _ => {}
            }
        }
    }
    // Confirmed integrity findings overlapping the period, by city, when a rule asks.
    let needs_findings = policy.rule.iter().any(|r| {
        r.when.confirmed_findings.is_some() || r.lift_when.as_ref().is_some_and(|l| l.confirmed_findings.is_some())
    });
    let mut confirmed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if needs_findings {
        let (a, b) = (day_number(from) * 24 + 1, day_number(to) * 24 + 24);
        let mut ledger = ctx.ledger()?;
        for r in lantian_store::findings::confirmed(ledger.db())? {
            if r.start <= b && r.end >= a {
                confirmed.entry(r.city).or_default().push(r.finding);
            }
        }
    }
    let mut out = BTreeMap::new();
    for (i, c) in cur.iter().enumerate() {
        let p = prev.get(&c.city);
        out.insert(
            c.city.clone(),
            Facts {
                area: c.city.clone(),
                composite_index: c.stats.composite_index,
                rank: ranks[i],
                n_ranked,
                pm25: c.stats.pm25,
                pm25_prev: p.and_then(|p| p.pm25),
                pm25_ytd: ytd.get(&c.city).and_then(|s| s.pm25),
                pm25_ytd_prev: ytd_prev.get(&c.city).and_then(|s| s.pm25),
                good_ratio: c.stats.good_ratio,
                good_ratio_prev: p.and_then(|p| p.good_ratio),
                pm25_up_months: if needs_months { streaks.get(&c.city).copied() } else { None },
                targets_missed: missed.remove(&c.city).unwrap_or_default(),
                targets_met: met.remove(&c.city).unwrap_or_default(),
                confirmed_findings: confirmed.remove(&c.city).unwrap_or_default(),
            },
        );
    }
    Ok(out)
}

/// `lantian policy run`.
#[derive(Clone, Debug)]
pub struct PolicyRun {
    /// The basis of rules that name none (default: the official one).
    pub basis: Basis,
    /// week:YYYY-Www, month:YYYY-MM or year:YYYY
    pub period: String,
    /// Policy file (default: DATA/policy.toml, else the built-in sample).
    pub policy: Option<std::path::PathBuf>,
    /// Who runs it (audit log).
    pub by: String,
    pub level: AreaLevel,
}

/// What a policy run recorded: the actions recorded or lifted now, and a
/// sentence saying how many (and which policy), and on which bases.
pub struct PolicyOutcome {
    pub table: Table,
    pub message: String,
    /// Each basis the rules judged on, with the station-hours behind it.
    pub bases: Vec<(Basis, lantian_store::ValuesUsed)>,
}

/// The basis a rule judges on: its own `values` and `dust`, else the run's.
pub fn rule_basis(rule: &lantian_core::policy::Rule, default: Basis) -> Result<Basis> {
    let values = match &rule.values {
        Some(v) => v.parse().map_err(|e| anyhow::anyhow!("rule {}: values {e}", rule.id))?,
        None => default.values,
    };
    let dust = match &rule.dust {
        Some(d) => d.parse().map_err(|e| anyhow::anyhow!("rule {}: dust {e}", rule.id))?,
        None => default.dust,
    };
    Ok(Basis { values, dust })
}

/// Evaluate the policy for a period and record the actions it triggers
/// (idempotent: a second run records nothing new).
pub fn run_policy(ctx: &Ctx, r: &PolicyRun, view: View) -> Result<PolicyOutcome> {
    use lantian_store::ledger::NewAction;
    let (period, by, level) = (&r.period, &r.by, &r.level);
    let (from, to) = parse_period(period)?;
    let (policy, origin) = load_policy(ctx, r.policy.as_deref())?;
    // The facts on each basis a rule judges on (the run's for the others).
    let mut bases: Vec<Basis> = Vec::new();
    for rule in &policy.rule {
        let b = rule_basis(rule, r.basis)?;
        if !bases.contains(&b) {
            bases.push(b);
        }
    }
    if bases.is_empty() {
        bases.push(r.basis);
    }
    let mut facts_by: Vec<(Basis, BTreeMap<String, Facts>, lantian_store::ValuesUsed)> = Vec::new();
    for b in &bases {
        let days = StoreDays::open(ctx, *b)?;
        let facts = policy_facts(ctx, &days, &policy, from, to, *level)?;
        facts_by.push((*b, facts, days.used()));
    }
    let facts_of = |b: Basis| facts_by.iter().find(|(x, _, _)| *x == b).map(|(_, f, _)| f).expect("computed");
    if facts_by.iter().all(|(_, f, _)| f.is_empty()) {
        bail!("no data for {period}");
    }
    let edition = Edition::for_date(to).to_string();
    let mut ledger = ctx.ledger()?;
    let mut actions = Vec::new();
    for rule in &policy.rule {
        let in_force = rule.effective_from.as_ref().is_none_or(|d| d.parse::<Date>().is_ok_and(|d| to >= d))
            && rule.effective_to.as_ref().is_none_or(|d| d.parse::<Date>().is_ok_and(|d| to <= d));
        if !in_force {
            continue;
        }
        let basis = rule_basis(rule, r.basis)?;
        for f in facts_of(basis).values() {
            let Some((true, reasons)) = evaluate(&rule.when, f) else { continue };
            let amount = rule.amount.as_ref().map(|a| policy_amount(a, f));
            let evidence = serde_json::json!({
                "rule": rule.id, "rule_name": rule.name, "policy": origin, "period": period,
                "from": from.to_string(), "to": to.to_string(), "edition": edition,
                "values": basis.values.key(), "dust": basis.dust.key(),
                "reasons": reasons, "facts": f,
            });
            actions.push(NewAction {
                rule: rule.id.clone(),
                rule_name: rule.name.clone(),
                area: f.area.clone(),
                period: period.clone(),
                kind: rule.action.key().to_string(),
                amount,
                evidence: evidence.to_string(),
                edition: edition.clone(),
            });
        }
    }
    // Restrictions in force whose lifting condition now holds.
    let mut lifts = Vec::new();
    for a in ledger.list(None, None)?.into_iter().filter(|a| a.status != "lifted" && a.kind == "approval_restriction") {
        let Some(rule) = policy.rule.iter().find(|x| x.id == a.rule) else { continue };
        let (Some(cond), Some(f)) = (&rule.lift_when, facts_of(rule_basis(rule, r.basis)?).get(&a.area)) else {
            continue;
        };
        if a.period == *period {
            continue;
        }
        if let Some((true, reasons)) = evaluate(cond, f) {
            lifts.push((a.id, format!("{period}: {}", reasons.join("; "))));
        }
    }
    let outcome = ledger.record_run(period, by, &actions, &lifts)?;
    let mut t = Table::new(vec![
        Col("id", "编号", "ID"),
        Col("area", "地区", "Area"),
        Col("action", "措施", "Action"),
        Col("rule", "规则", "Rule"),
        Col("amount", "金额(元)", "Amount (CNY)"),
        Col("event", "事件", "Event"),
    ]);
    // Tables for people speak the reader's language; csv/json keep stable keys.
    let people_zh = view.words();
    for id in outcome.inserted.iter().chain(&outcome.lifted) {
        let Some(a) = ledger.get(*id)? else { continue };
        let kind = lantian_core::policy::ActionKind::ALL.iter().find(|k| k.key() == a.kind);
        let lifted = outcome.lifted.contains(id);
        t.push(vec![
            Cell::Int(a.id),
            Cell::text(&a.area),
            Cell::text(
                kind.map_or(a.kind.clone(), |k| if people_zh { k.zh().to_string() } else { k.key().to_string() }),
            ),
            Cell::text(&a.rule_name),
            Cell::opt(a.amount, 0),
            Cell::text(match (lifted, people_zh) {
                (true, true) => "解除",
                (true, false) => "lifted",
                (false, true) => "新增",
                (false, false) => "recorded",
            }),
        ]);
    }
    let message = if view.zh() {
        format!(
            "{period}: 新增 {}，已存在 {}，解除 {}（规则: {origin}）",
            outcome.inserted.len(),
            outcome.already,
            outcome.lifted.len()
        )
    } else {
        format!(
            "{period}: recorded {}, already recorded {}, lifted {} (policy: {origin})",
            outcome.inserted.len(),
            outcome.already,
            outcome.lifted.len()
        )
    };
    let bases = facts_by.iter().map(|(b, _, u)| (*b, *u)).collect();
    Ok(PolicyOutcome { table: t, message, bases })
}

/// Check a policy file and install it as DATA/policy.toml; the number of rules.
pub fn install_policy(ctx: &Ctx, file: &Path) -> Result<usize> {
    let (p, _) = load_policy(ctx, Some(file))?;
    std::fs::create_dir_all(&ctx.data)?;
    let tmp = ctx.data.join("policy.toml.tmp");
    std::fs::write(&tmp, std::fs::read(file)?)?;
    std::fs::rename(&tmp, ctx.data.join("policy.toml"))?;
    Ok(p.rule.len())
}

/// The action ledger as a table.
pub fn actions_table(list: &[lantian_store::ledger::ActionRecord]) -> Table {
    let mut t = Table::new(vec![
        Col("id", "编号", "ID"),
        Col("period", "时段", "Period"),
        Col("area", "地区", "Area"),
        Col("action", "措施", "Action"),
        Col("rule", "规则", "Rule"),
        Col("amount", "金额(元)", "Amount (CNY)"),
        Col("status", "状态", "Status"),
        Col("created_at", "记录时间", "Recorded"),
        Col("closed_at", "解除时间", "Closed"),
        Col("close_reason", "解除原因", "Reason"),
    ]);
    for a in list {
        t.push(vec![
            Cell::Int(a.id),
            Cell::text(&a.period),
            Cell::text(&a.area),
            Cell::text(&a.kind),
            Cell::text(&a.rule_name),
            Cell::opt(a.amount, 0),
            Cell::text(&a.status),
            Cell::text(&a.created_at),
            Cell::text(a.closed_at.clone().unwrap_or_default()),
            Cell::text(a.close_reason.clone().unwrap_or_default()),
        ]);
    }
    t
}
