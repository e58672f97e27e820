//! Clusters from links: the records that auto-linked pairs join, directly or through others
//! (the transitive closure), by union–find with path halving and union by size.

/// The cluster of every record, given the linked pairs: entry `i` is the smallest index of the
/// records linked to `i` directly or through others (`i` itself when it has no link), so the
/// output does not depend on the order of the links. Indexes must be below `len`.
pub fn cluster(len: usize, links: impl IntoIterator<Item = (u32, u32)>) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..len as u32).collect();
    let mut size = vec![1u32; len];
    let find = |parent: &mut [u32], mut i: u32| {
        while parent[i as usize] != i {
            let grandparent = parent[parent[i as usize] as usize];
            parent[i as usize] = grandparent;
            i = grandparent;
        }
        i
    };
    for (a, b) in links {
        let (x, y) = (find(&mut parent, a), find(&mut parent, b));
        if x == y {
            continue;
        }
        let (big, small) = if size[x as usize] >= size[y as usize] { (x, y) } else { (y, x) };
        parent[small as usize] = big;
        size[big as usize] += size[small as usize];
    }
    // The root is arbitrary; name each cluster by its smallest member instead.
    let roots: Vec<u32> = (0..len as u32).map(|i| find(&mut parent, i)).collect();
    let mut smallest = vec![u32::MAX; len];
    for (i, &root) in roots.iter().enumerate() {
        smallest[root as usize] = smallest[root as usize].min(i as u32);
    }
    roots.iter().map(|&root| smallest[root as usize]).collect()
}

#[cfg(test)]
mod tests;
