//! AI-feedback tasks end to end: detection targets on simulated batches (library), the
//! CLI surface (`--task`, detection, located errors, every output carrying the task rules).

use std::collections::HashMap;

use labelaudit::agreement::AgreementOptions;
use labelaudit::progress::Progress;
use labelaudit::quality::{Decision, Policy};
use labelaudit::tasks::audit::audit;
use labelaudit::tasks::simulate::{simulate, TaskSimConfig};
use labelaudit::tasks::Task;

use crate::harness::labelaudit;

/// Per role: (annotators, held, held or reviewed) over `seeds` simulated batches.
fn rates(task: Task, items: usize, seeds: u64) -> HashMap<&'static str, (usize, usize, usize)> {
    let mut out: HashMap<&'static str, (usize, usize, usize)> = HashMap::new();
    for seed in 0..seeds {
        let sim = simulate(&TaskSimConfig {
            task,
            items,
            seed,
            ..TaskSimConfig::default()
        });
        let opts = AgreementOptions {
            bootstrap: 0,
            ..AgreementOptions::default()
        };
        let report = audit(
            task,
            false,
            &sim.to_input(),
            &opts,
            &labelaudit::run::ModelSpec::default(),
            &Policy::default(),
            &Progress::hidden(),
        );
        let decision: HashMap<&str, Decision> = report
            .quality
            .annotators
            .iter()
            .map(|a| (a.id.as_str(), a.decision))
            .collect();
        for (name, role) in &sim.roles {
            let d = decision[name.as_str()];
            let e = out.entry(role).or_default();
            e.0 += 1;
            e.1 += usize::from(d == Decision::Hold);
            e.2 += usize::from(matches!(d, Decision::Hold | Decision::Review));
        }
        // No NaN anywhere in the JSON.
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("NaN") && !json.contains("inf"));
    }
    out
}

fn share(x: usize, n: usize) -> f64 {
    x as f64 / n.max(1) as f64
}

#[test]
fn preference_targets() {
    let r = rates(Task::Preference, 1000, 3);
    let honest = r["honest"];
    assert!(share(honest.1, honest.0) <= 0.01, "{r:?}");
    let pb = r["position_biased"];
    assert!(share(pb.1, pb.0) >= 0.95, "{r:?}");
    let tie = r["tie_overuser"];
    assert!(share(tie.2, tie.0) >= 0.95, "{r:?}");
}

#[test]
fn rubric_targets() {
    let r = rates(Task::Rubric, 1000, 3);
    let honest = r["honest"];
    assert!(share(honest.1, honest.0) <= 0.01, "{r:?}");
    let flat = r["flat_rater"];
    assert!(share(flat.1, flat.0) >= 0.95, "{r:?}");
    let low = r["low_variance_rater"];
    assert!(share(low.2, low.0) >= 0.95, "{r:?}");
}

#[test]
fn text_targets() {
    let r = rates(Task::Text, 1000, 3);
    let honest = r["honest"];
    assert!(share(honest.1, honest.0) <= 0.01, "{r:?}");
    let copy = r["copy_paster"];
    assert!(share(copy.1, copy.0) >= 0.95, "{r:?}");
    for role in ["short_answerer", "template_reuser"] {
        let x = r[role];
        assert!(share(x.2, x.0) >= 0.95, "{role}: {r:?}");
    }
}

#[test]
fn ranking_targets() {
    let r = rates(Task::Ranking, 1000, 2);
    let honest = r["honest"];
    assert!(share(honest.2, honest.0) <= 0.01, "{r:?}");
    let random = r["random_ranker"];
    assert!(share(random.2, random.0) >= 0.95, "{r:?}");
}

#[test]
fn cli_detects_preference_and_renders_the_task_rules_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    let sim_s = sim.to_str().unwrap();
    labelaudit(&[
        "simulate",
        "--task",
        "preference",
        "--items",
        "300",
        "--out",
        sim_s,
    ])
    .expect_code(0);
    let data = sim.join("annotations.csv");
    let md = dir.path().join("r.md");
    let html = dir.path().join("r.html");
    let csv = dir.path().join("r.csv");
    let run = labelaudit(&[
        "audit",
        data.to_str().unwrap(),
        "--bootstrap",
        "0",
        "-q",
        "--json",
        "--export-markdown",
        md.to_str().unwrap(),
        "--export-html",
        html.to_str().unwrap(),
        "--export-csv",
        csv.to_str().unwrap(),
    ])
    .expect_code(0);
    let json = run.json();
    assert_eq!(json["task"]["task"], "preference");
    assert_eq!(json["task"]["detected"], true);
    assert_eq!(json["task"]["agreement"]["kind"], "preference");
    let flags = json["flags"].as_array().unwrap();
    let pb = flags
        .iter()
        .find(|f| f["rule"] == "position_bias")
        .expect("a position_bias flag");
    for key in [
        "statistic",
        "cohort_reference",
        "threshold",
        "n",
        "p_value",
        "q_value",
    ] {
        assert!(pb[key].is_number(), "{key}: {pb}");
    }
    assert!(pb["message"].as_str().unwrap().contains("clears when"));
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.contains("## Task: preference") && md.contains("position\\_bias"));
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains("Task: preference") && html.contains("position_bias"));
    let csv = std::fs::read_to_string(csv).unwrap();
    assert!(csv.lines().next().unwrap().contains("position_bias_p"));
    // The dispute packet of a flagged annotator carries the task flag and its rerun command.
    let who = pb["annotator"].as_str().unwrap();
    let packet = labelaudit(&[
        "explain",
        data.to_str().unwrap(),
        "--annotator",
        who,
        "-q",
        "--task",
        "preference",
    ])
    .expect_code(0);
    assert!(
        packet.stdout.contains("`position_bias`"),
        "{}",
        packet.stdout
    );
    assert!(packet.stdout.contains("--task preference"));
}

#[test]
fn cli_rubric_jsonl_label_object_and_csv_columns_agree() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("r.jsonl");
    let csv = dir.path().join("r.csv");
    let mut j = String::new();
    let mut c = String::from("item,annotator,helpfulness,accuracy\n");
    for i in 0..12 {
        for a in 0..3 {
            let (h, acc) = ((i + a) % 5 + 1, (i * 2 + a) % 5 + 1);
            j.push_str(&format!(
                "{{\"item\": \"i{i}\", \"annotator\": \"a{a}\", \"label\": {{\"helpfulness\": {h}, \"accuracy\": {acc}}}}}\n"
            ));
            c.push_str(&format!("i{i},a{a},{h},{acc}\n"));
        }
    }
    std::fs::write(&jsonl, j).unwrap();
    std::fs::write(&csv, c).unwrap();
    let a = labelaudit(&[
        "agreement",
        jsonl.to_str().unwrap(),
        "--task",
        "rubric",
        "--json",
        "--bootstrap",
        "0",
        "-q",
    ])
    .expect_code(0)
    .json();
    let b = labelaudit(&[
        "agreement",
        csv.to_str().unwrap(),
        "--task",
        "rubric",
        "--label-col",
        "accuracy,helpfulness",
        "--json",
        "--bootstrap",
        "0",
        "-q",
    ])
    .expect_code(0)
    .json();
    assert_eq!(a["task"]["agreement"], b["task"]["agreement"]);
    assert_eq!(
        a["task"]["agreement"]["dimensions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn cli_task_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.csv");
    std::fs::write(&p, "item,annotator,label\n1,a,A\n1,b,maybe\n").unwrap();
    let run =
        labelaudit(&["audit", p.to_str().unwrap(), "--task", "preference", "-q"]).expect_code(1);
    assert!(
        run.stderr.contains(
            "p.csv:3: expected a preference (A, B, tie, A>>B, A>B, B>A or B>>A), found \"maybe\""
        ),
        "{}",
        run.stderr
    );
    let r = dir.path().join("r.csv");
    std::fs::write(&r, "item,annotator,label\n1,a,r1>r2\n1,b,r1>>r2\n").unwrap();
    let run = labelaudit(&["audit", r.to_str().unwrap(), "--task", "ranking", "-q"]).expect_code(1);
    assert!(
        run.stderr.contains("r.csv:3: expected a ranking"),
        "{}",
        run.stderr
    );
    let s = dir.path().join("s.csv");
    std::fs::write(&s, "item,annotator,h,a\n1,x,3,4\n1,y,3,high\n").unwrap();
    let run = labelaudit(&[
        "audit",
        s.to_str().unwrap(),
        "--task",
        "rubric",
        "--label-col",
        "h,a",
        "-q",
    ])
    .expect_code(1);
    assert!(
        run.stderr
            .contains("s.csv:3: expected a number for a, found \"high\""),
        "{}",
        run.stderr
    );
}

#[test]
fn cli_task_reports_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    labelaudit(&[
        "simulate",
        "--task",
        "text",
        "--items",
        "200",
        "--out",
        sim.to_str().unwrap(),
    ])
    .expect_code(0);
    let data = sim.join("annotations.csv");
    let run = |threads: &str| {
        labelaudit(&[
            "audit",
            data.to_str().unwrap(),
            "--task",
            "text",
            "--threads",
            threads,
            "--bootstrap",
            "0",
            "-q",
            "--json",
        ])
        .expect_code(0)
        .stdout
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn consensus_refuses_feedback_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.csv");
    std::fs::write(&p, "item,annotator,label\n1,a,A\n1,b,B\n").unwrap();
    let run =
        labelaudit(&["consensus", p.to_str().unwrap(), "--task", "preference"]).expect_code(2);
    assert!(run
        .stderr
        .contains("--task preference works with agreement, audit and explain"));
}
