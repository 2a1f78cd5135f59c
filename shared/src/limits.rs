//! Input size limits. A request over any of them is refused with `invalid` and changes nothing.

/// Longest title (conference or agenda item), in characters.
pub const MAX_TITLE_CHARS: usize = 500;
/// Longest name of a person, site or organiser, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest position or title of a person, in characters.
pub const MAX_PERSON_TITLE_CHARS: usize = 500;
/// Longest speaker entry ("Name, position, site"), in characters.
pub const MAX_SPEAKER_CHARS: usize = 400;
/// Longest free text (summary, reason, conclusion, task), in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Most sites linked to one conference.
pub const MAX_SITES: usize = 50_000;
/// Most chairs, guests, delegates or speakers in one list.
pub const MAX_PEOPLE: usize = 200;
/// Most agenda items.
pub const MAX_AGENDA_ITEMS: usize = 100;
/// Most conclusions or tasks on one agenda item.
pub const MAX_ITEM_ENTRIES: usize = 500;
/// Largest headcount a bridge may declare.
pub const MAX_HEADCOUNT: u32 = 10_000;
/// Longest conference, in hours.
pub const MAX_DURATION_HOURS: i64 = 7 * 24;
