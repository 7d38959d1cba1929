//! `singerid similar`: the library's recordings and singers nearest to a file, a stored
//! recording or a singer (`singerid_library::similar`).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::Context;
use singerid_infer::IdentifyOptions;
use singerid_library::{Query, Similar};

use crate::args::{GlobalArgs, LibraryArgs};
use crate::commands::print_summary;
use crate::logging;

#[derive(Debug, clap::Args)]
pub struct SimilarArgs {
    /// What to search around: an audio file (analysed now when the library does not have it),
    /// a singer's name (trained or enrolled), or `#ID` for a stored recording.
    #[arg(value_name = "FILE|SINGER|#ID")]
    pub query: String,

    /// How many recordings and how many singers to list.
    #[arg(short, long, value_name = "N", default_value = "10")]
    pub k: NonZeroUsize,

    #[command(flatten)]
    pub library: LibraryArgs,
}

/// Runs the command.
///
/// # Errors
/// An unknown singer or recording, an unreadable file, model or database.
pub fn run(args: &SimilarArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let (bundle, model, mut library) = args.library.open()?;
    let query = parse_query(&args.query)?;
    let progress = logging::Bar::new(global.quiet, 8);
    let found = singerid_library::similar(
        &mut library,
        &bundle,
        &model,
        &query,
        args.k.get(),
        &IdentifyOptions::default(),
        &progress,
    )?;
    print_summary(args.library.format, &found, || render(&found))?;
    Ok(true)
}

/// `#12` is a recording id, an existing path a file, anything else a singer's name.
fn parse_query(text: &str) -> anyhow::Result<Query> {
    if let Some(id) = text.strip_prefix('#') {
        let id = id
            .parse()
            .with_context(|| format!("{text:?}: a recording id is # and a number"))?;
        return Ok(Query::Recording(id));
    }
    let path = PathBuf::from(text);
    Ok(if path.exists() {
        Query::File(path)
    } else {
        Query::Singer(text.to_owned())
    })
}

fn render(s: &Similar) -> String {
    let mut out = format!(
        "nearest to {} ({} recordings searched; distance = 1 - cosine similarity)\n",
        s.query, s.searched
    );
    out.push_str("singers:\n");
    if s.singers.is_empty() {
        out.push_str("  none with a profile yet (scan or enrol first)\n");
    }
    for n in &s.singers {
        out.push_str(&format!("  {:.3}  {} ({})\n", n.distance, n.name, n.detail));
    }
    out.push_str("recordings:\n");
    if s.recordings.is_empty() {
        out.push_str("  none (scan a folder first)\n");
    }
    for n in &s.recordings {
        out.push_str(&format!(
            "  {:.3}  #{} {} (identified: {})\n",
            n.distance,
            n.id.unwrap_or_default(),
            n.name,
            n.detail
        ));
    }
    out
}
