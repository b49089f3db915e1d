//! `labelaudit consensus` end to end: the CSV a user trains on matches crowd-kit's labels.

use std::collections::HashMap;

use crate::harness::{fixture, labelaudit};

fn crowdkit_labels(dataset: &str, method: &str) -> HashMap<String, String> {
    let text = std::fs::read_to_string(fixture("datasets/crowdkit_expected.json")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    all["datasets"][dataset][method]["labels"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn our_labels(dataset: &str, method: &str) -> HashMap<String, (String, f64)> {
    let answers = fixture(&format!("datasets/{dataset}/answers.csv"));
    let run = labelaudit(&["consensus", &answers, "--method", method]).expect_code(0);
    let mut lines = run.stdout.lines();
    assert_eq!(lines.next(), Some("item,label,confidence"));
    lines
        .map(|line| {
            let mut f = line.split(',');
            let item = f.next().unwrap().to_string();
            let label = f.next().unwrap().to_string();
            let confidence: f64 = f.next().unwrap().parse().unwrap();
            assert!((0.0..=1.0).contains(&confidence), "{line}");
            (item, (label, confidence))
        })
        .collect()
}

#[test]
fn dawid_skene_csv_matches_crowd_kit_on_bluebirds() {
    let expected = crowdkit_labels("bluebirds", "ds");
    let ours = our_labels("bluebirds", "dawid-skene");
    assert_eq!(ours.len(), expected.len());
    for (item, label) in &expected {
        assert_eq!(&ours[item].0, label, "item {item}");
    }
}

#[test]
fn majority_vote_csv_matches_crowd_kit_on_web() {
    let expected = crowdkit_labels("web", "mv");
    let ours = our_labels("web", "majority-vote");
    let same = expected
        .iter()
        .filter(|(item, label)| ours.get(*item).map(|o| &o.0) == Some(label))
        .count();
    assert_eq!(same, expected.len());
}

#[test]
fn consensus_json_carries_annotator_estimates() {
    let answers = fixture("datasets/bluebirds/answers.csv");
    let run = labelaudit(&["consensus", &answers, "--method", "mace", "--json"]).expect_code(0);
    let report = run.json();
    assert_eq!(report["method"], "mace");
    let annotators = report["annotators"].as_array().unwrap();
    assert_eq!(annotators.len(), 39);
    assert!(annotators.iter().all(|a| a["spam_probability"]
        .as_f64()
        .is_some_and(|p| (0.0..=1.0).contains(&p))));
}
