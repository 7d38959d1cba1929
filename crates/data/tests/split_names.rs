//! Manifests whose `split` column names splits other than train / val / test.

use std::path::Path;

use singerid_data::{DataError, Dataset, PartitionMode, Split, partition};

const MANIFEST: &str = "path,singer,song,split\n\
    a/one.mp3,amy,one,train\n\
    a/two.mp3,amy,two,validation\n\
    a/three.mp3,amy,three,test\n\
    b/four.mp3,bob,four,train\n\
    x/five.mp3,zed,five,openset\n\
    x/six.mp3,zed,six, openset \n";

fn open(dir: &Path) -> Dataset {
    let manifest = dir.join("m.csv");
    std::fs::write(&manifest, MANIFEST).expect("write manifest");
    Dataset::open(&manifest).expect("open manifest")
}

#[test]
fn a_manifest_with_an_openset_split_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dataset = open(dir.path());
    assert!(dataset.problems.is_empty(), "{:?}", dataset.problems);
    assert_eq!(dataset.recordings.len(), 6);
    assert_eq!(dataset.split_names(), ["openset", "test", "train", "val"]);
    let two = dataset
        .recordings
        .iter()
        .find(|r| r.song == "two")
        .expect("row two");
    assert_eq!(two.split.as_ref().map(|s| s.as_str()), Some("val"));
    assert_eq!(two.split_role(), Some(Split::Val));
}

#[test]
fn partition_leaves_other_splits_out_of_training() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dataset = open(dir.path());
    let parts = partition(&dataset, PartitionMode::Manifest, 0).expect("partition");
    assert_eq!(parts.train.len(), 2);
    assert_eq!(parts.val.len(), 1);
    assert_eq!(parts.test.len(), 1);
    let all = parts.train.iter().chain(&parts.val).chain(&parts.test);
    assert!(all.into_iter().all(|r| r.singer != "zed"));
    let openset = parts.other.get("openset").expect("openset kept aside");
    assert_eq!(openset.len(), 2);
    assert_eq!(parts.other.len(), 1);
}

#[test]
fn selecting_a_split_by_name_returns_its_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dataset = open(dir.path());
    let openset = dataset.recordings_in_split("openset").expect("openset");
    let paths: Vec<_> = openset.iter().map(|r| r.path.as_path()).collect();
    assert_eq!(paths, [Path::new("x/five.mp3"), Path::new("x/six.mp3")]);
    // The canonical role names are normalised on the query too.
    assert_eq!(
        dataset
            .recordings_in_split("Validation")
            .expect("val")
            .len(),
        1
    );
}

#[test]
fn an_unknown_split_name_errors_listing_the_names_present() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dataset = open(dir.path());
    let err = dataset
        .recordings_in_split("enrol")
        .expect_err("no such split");
    assert!(
        matches!(&err, DataError::UnknownSplitName { name, present }
            if name == "enrol" && present == &["openset", "test", "train", "val"]),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("enrol"), "{message}");
    assert!(message.contains("openset, test, train, val"), "{message}");
}
