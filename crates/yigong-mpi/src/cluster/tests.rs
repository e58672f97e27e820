use super::*;

/// Clusters `len` records linked by `links` (`a-b`, space-separated); the expectation is the
/// representative of each record, space-separated.
fn check(len: usize, links: &str, expect: &str) {
    let parsed: Vec<(u32, u32)> = links
        .split_whitespace()
        .map(|l| {
            let (a, b) = l.split_once('-').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    let got: Vec<String> = cluster(len, parsed.iter().copied()).iter().map(u32::to_string).collect();
    assert_eq!(got.join(" "), expect, "links {links:?}");
    // The same links in reverse order and reversed pairs give the same clusters.
    let reversed = cluster(len, parsed.iter().rev().map(|&(a, b)| (b, a)));
    assert_eq!(reversed, cluster(len, parsed), "order matters for {links:?}");
}

#[test]
fn no_records() {
    check(0, "", "")
}
#[test]
fn no_links() {
    check(3, "", "0 1 2")
}
#[test]
fn one_link() {
    check(3, "2-1", "0 1 1")
}
#[test]
fn transitive() {
    check(5, "4-3 3-1", "0 1 2 1 1")
}
#[test]
fn two_clusters_joined_by_a_later_link() {
    check(6, "5-4 3-2 4-2 1-0", "0 0 2 2 2 2")
}
#[test]
fn self_link_and_repeats() {
    check(3, "1-1 2-1 1-2", "0 1 1")
}
#[test]
fn chain_in_any_order() {
    check(6, "0-5 2-3 4-5 1-2 3-4", "0 0 0 0 0 0")
}
#[test]
fn long_chain_stays_fast() {
    // A path of 100,000 links in the worst order for a naive union–find.
    let len = 100_000;
    let clusters = cluster(len, (1..len as u32).map(|i| (i, i - 1)));
    assert!(clusters.iter().all(|&c| c == 0));
}
