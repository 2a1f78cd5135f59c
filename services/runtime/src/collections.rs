//! Hash maps for the projections: the standard map with foldhash, a fast hasher seeded at random per
//! process (so keys chosen by clients, like idempotency keys, cannot be crafted to collide). Every
//! command looks up a few of these; SipHash showed up at 6 % of a service's CPU under load.

/// A hash map keyed with foldhash.
pub type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A hash set keyed with foldhash.
pub type Set<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
