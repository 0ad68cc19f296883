//! The cache with real components, compiled from text at test time.

use super::*;

const WAT: &str = r#"(component
    (core module $m (func (export "f") (result i32) i32.const 7))
    (core instance $i (instantiate $m))
    (func (export "f") (result u32) (canon lift (core func $i "f"))))"#;

/// [`WAT`] answering 70000: another component, two bytes longer.
fn other() -> Vec<u8> {
    wat::parse_str(WAT.replace("i32.const 7", "i32.const 70000")).unwrap()
}

fn engine(fuel: bool) -> Engine {
    let mut config = wasmtime::Config::new();
    config.consume_fuel(fuel);
    Engine::new(&config).unwrap()
}

/// What `f` of `compiled` returns.
fn answer(engine: &Engine, compiled: &Compiled) -> u32 {
    let mut store = wasmtime::Store::new(engine, ());
    let instance = wasmtime::component::Linker::new(engine)
        .instantiate(&mut store, &compiled.component)
        .unwrap();
    let f = instance
        .get_typed_func::<(), (u32,)>(&mut store, "f")
        .unwrap();
    f.call(&mut store, ()).unwrap().0
}

/// [`remember`] with the engine variant `plain`, as a run once the file has settled.
fn remember_settled(path: &Path, compiled: &Compiled, mode: &CacheMode) {
    remember_as_of(
        "plain",
        path,
        compiled,
        mode,
        SystemTime::now() + SETTLED * 2,
    );
}

fn rebuilt_because(compiled: &Compiled) -> &str {
    match &compiled.outcome {
        CacheOutcome::Rebuilt { reason } => reason,
        outcome => panic!("not rebuilt: {outcome:?}"),
    }
}

#[test]
fn an_entry_under_another_components_key_is_refused_before_it_is_mapped() {
    let dir = tempfile::tempdir().unwrap();
    let mode = CacheMode::Dir(dir.path().to_owned());
    let (engine, fueled) = (engine(false), engine(true));
    let bytes = wat::parse_str(WAT).unwrap();
    let ours = load_or_compile(&engine, &bytes, &mode).unwrap();
    let theirs = load_or_compile(&engine, &other(), &mode).unwrap();
    assert_eq!(answer(&engine, &theirs), 70000);
    let (ours, theirs) = (ours.entry.unwrap(), theirs.entry.unwrap());

    // A genuine entry of another component, copied under this one's name.
    std::fs::copy(&theirs, &ours).unwrap();
    let copied = load_or_compile(&engine, &bytes, &mode).unwrap();
    let reason = rebuilt_because(&copied);
    assert!(
        reason.contains("compiled from another component"),
        "{reason}"
    );
    assert_eq!(answer(&engine, &copied), 7);
    let again = load_or_compile(&engine, &bytes, &mode).unwrap();
    assert_eq!(again.outcome, CacheOutcome::Hit);
    assert_eq!(answer(&engine, &again), 7);
    drop((copied, again));

    // Its record is read before wasmtime sees the file: a payload wasmtime would reject
    // is refused for the record alone.
    let mut forged = std::fs::read(&theirs).unwrap();
    let payload = forged.len() - TRAILER;
    forged[..payload].fill(0);
    std::fs::write(&ours, &forged).unwrap();
    let reason = rebuilt_because(&load_or_compile(&engine, &bytes, &mode).unwrap()).to_owned();
    assert!(
        reason.contains("compiled from another component"),
        "{reason}"
    );

    // This component compiled for another engine configuration is refused too.
    let fueled_entry = load_or_compile(&fueled, &bytes, &mode)
        .unwrap()
        .entry
        .unwrap();
    std::fs::copy(&fueled_entry, &ours).unwrap();
    let reason = rebuilt_because(&load_or_compile(&engine, &bytes, &mode).unwrap()).to_owned();
    assert!(reason.contains("another engine configuration"), "{reason}");
}

#[test]
fn an_entry_of_an_earlier_format_is_a_miss_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let mode = CacheMode::Dir(dir.path().to_owned());
    let engine = engine(false);
    let bytes = wat::parse_str(WAT).unwrap();
    let entry = load_or_compile(&engine, &bytes, &mode)
        .unwrap()
        .entry
        .unwrap();
    // Version 3: the payload, its CRC-32, its length and the magic; no record.
    let payload = Component::from_binary(&engine, &bytes)
        .unwrap()
        .serialize()
        .unwrap();
    let mut old = payload.clone();
    old.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    old.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    old.extend_from_slice(b"wcompC03");
    std::fs::write(&entry, &old).unwrap();

    let compiled = load_or_compile(&engine, &bytes, &mode).unwrap();
    assert_eq!(compiled.outcome, CacheOutcome::Miss);
    assert_eq!(compiled.store_error, None);
    assert_ne!(std::fs::read(&entry).unwrap(), old);
    let again = load_or_compile(&engine, &bytes, &mode).unwrap();
    assert_eq!(again.outcome, CacheOutcome::Hit);
    assert_eq!(answer(&engine, &again), 7);
}

#[test]
fn the_path_index_only_leads_to_an_entry_recording_the_component_it_claims() {
    let dir = tempfile::tempdir().unwrap();
    let mode = CacheMode::Dir(dir.path().join("cache"));
    let engine = engine(false);
    let (path, other_path) = (dir.path().join("a.wasm"), dir.path().join("b.wasm"));
    std::fs::write(&path, wat::parse_str(WAT).unwrap()).unwrap();
    std::fs::write(&other_path, other()).unwrap();
    let mut entries = Vec::new();
    for path in [&path, &other_path] {
        let compiled = load_or_compile(&engine, &std::fs::read(path).unwrap(), &mode).unwrap();
        remember_settled(path, &compiled, &mode);
        entries.push(compiled.entry.unwrap());
    }
    let index = index_path(&mode_dir(&mode), "plain", &path).unwrap();
    let honest = std::fs::read_to_string(&index).unwrap();
    let recalled = recall(&engine, "plain", &path, &mode).expect("recorded");
    assert_eq!(answer(&engine, &recalled), 7);
    drop(recalled);

    // The index claims the other component for this file: its entry records another size
    // than the file has, so it is not taken.
    let other_index = index_path(&mode_dir(&mode), "plain", &other_path).unwrap();
    let (_, claimed) = std::fs::read_to_string(&other_index)
        .unwrap()
        .trim_end()
        .rsplit_once(' ')
        .map(|(stamp, digest)| (stamp.to_owned(), digest.to_owned()))
        .unwrap();
    let (stamp, _) = honest.trim_end().rsplit_once(' ').unwrap();
    std::fs::write(&index, format!("{stamp} {claimed}\n")).unwrap();
    assert!(recall(&engine, "plain", &path, &mode).is_none());
    // Nor does an entry name: an honest index, the other component's entry under it.
    std::fs::write(&index, &honest).unwrap();
    std::fs::copy(&entries[1], &entries[0]).unwrap();
    assert!(recall(&engine, "plain", &path, &mode).is_none());
    // Nor a record of the earlier format, which named an entry.
    let key = entries[1].file_stem().unwrap().to_str().unwrap();
    std::fs::write(&index, format!("{stamp} {key}\n")).unwrap();
    assert!(recall(&engine, "plain", &path, &mode).is_none());
}

fn mode_dir(mode: &CacheMode) -> PathBuf {
    match mode {
        CacheMode::Dir(dir) => dir.clone(),
        CacheMode::Disabled => unreachable!(),
    }
}

#[test]
#[cfg(unix)]
fn entries_and_records_replace_links_and_loose_modes_with_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let mode = CacheMode::Dir(cache.clone());
    let engine = engine(false);
    let mode_of = |path: &Path| {
        let metadata = std::fs::symlink_metadata(path).unwrap();
        assert!(metadata.is_file(), "{} is not a file", path.display());
        metadata.permissions().mode() & 0o777
    };
    // What a new file gets under this process's umask.
    std::fs::write(dir.path().join("probe"), b"").unwrap();
    let umask_mode = mode_of(&dir.path().join("probe"));

    // An entry left writable by all.
    let bytes = wat::parse_str(WAT).unwrap();
    let entry = cache.join(format!("{}.cwasm", key(&engine, &bytes)));
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(&entry, b"junk").unwrap();
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
    let compiled = load_or_compile(&engine, &bytes, &mode).unwrap();
    assert_eq!(rebuilt_because(&compiled), NOT_AN_ENTRY);
    assert_eq!(compiled.store_error, None);
    assert_eq!(mode_of(&entry), umask_mode);

    // Entries and index records that are links to a file outside the cache.
    let outside = dir.path().join("outside");
    std::fs::write(&outside, b"not the cache's").unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o666)).unwrap();
    let path = dir.path().join("b.wasm");
    std::fs::write(&path, other()).unwrap();
    let entry = cache.join(format!("{}.cwasm", key(&engine, &other())));
    std::os::unix::fs::symlink(&outside, &entry).unwrap();
    let index = index_path(&cache, "plain", &path).unwrap();
    std::fs::create_dir_all(index.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&outside, &index).unwrap();
    let compiled = load_or_compile(&engine, &other(), &mode).unwrap();
    assert!(rebuilt_because(&compiled).contains("symbolic link"));
    assert_eq!(compiled.store_error, None);
    remember_settled(&path, &compiled, &mode);
    assert_eq!((mode_of(&entry), mode_of(&index)), (umask_mode, umask_mode));
    assert_eq!(std::fs::read(&outside).unwrap(), b"not the cache's");
    assert_eq!(mode_of(&outside), 0o666);
    drop(compiled);
    let recalled = recall(&engine, "plain", &path, &mode).expect("recorded");
    assert_eq!(answer(&engine, &recalled), 70000);
}

#[test]
fn hits_after_a_miss_and_rebuilds_corrupt_entries() {
    let dir = tempfile::tempdir().unwrap();
    let mode = CacheMode::Dir(dir.path().to_owned());
    let bytes = wat::parse_str(WAT).unwrap();
    let engine = engine(false);

    let first = load_or_compile(&engine, &bytes, &mode).unwrap();
    assert_eq!(first.outcome, CacheOutcome::Miss);
    assert_eq!(first.store_error, None);
    let second = load_or_compile(&engine, &bytes, &mode).unwrap();
    assert_eq!(second.outcome, CacheOutcome::Hit);

    let entry = second.entry.unwrap();
    let mut data = std::fs::read(&entry).unwrap();
    let checksum = data.len() - TRAILER + Source::LEN;
    data[checksum] ^= 0xff;
    std::fs::write(&entry, &data).unwrap();
    let third = load_or_compile(&engine, &bytes, &mode).unwrap();
    assert!(
        matches!(&third.outcome, CacheOutcome::Rebuilt { reason } if reason.contains("checksum")),
        "{:?}",
        third.outcome
    );
    let mut data = std::fs::read(&entry).unwrap();
    data[checksum] ^= 0xff;
    let middle = data.len() / 2;
    data[middle] ^= 0xff;
    std::fs::write(&entry, &data).unwrap();
    assert!(matches!(
        load_or_compile(&engine, &bytes, &mode).unwrap().outcome,
        CacheOutcome::Rebuilt { .. }
    ));
    std::fs::write(&entry, b"junk").unwrap();
    let fourth = load_or_compile(&engine, &bytes, &mode).unwrap();
    assert!(matches!(fourth.outcome, CacheOutcome::Rebuilt { .. }));
    assert_eq!(
        load_or_compile(&engine, &bytes, &mode).unwrap().outcome,
        CacheOutcome::Hit
    );

    let cleaned = clean(dir.path()).unwrap();
    assert_eq!(cleaned.files, 1);
    assert_eq!(
        load_or_compile(&engine, &bytes, &mode).unwrap().outcome,
        CacheOutcome::Miss
    );
}

#[test]
fn the_path_index_skips_hashing_only_for_a_settled_unchanged_file() {
    let dir = tempfile::tempdir().unwrap();
    let mode = CacheMode::Dir(dir.path().join("cache"));
    let engine = engine(false);
    let path = dir.path().join("c.wasm");
    std::fs::write(&path, wat::parse_str(WAT).unwrap()).unwrap();
    let compiled = load_or_compile(&engine, &std::fs::read(&path).unwrap(), &mode).unwrap();

    // Just written: not recorded, since a rewrite could still share its timestamps.
    remember("plain", &path, &compiled, &mode);
    assert!(recall(&engine, "plain", &path, &mode).is_none());

    remember_settled(&path, &compiled, &mode);
    let recalled = recall(&engine, "plain", &path, &mode).expect("recorded");
    assert_eq!(recalled.outcome, CacheOutcome::Hit);
    assert_eq!(recalled.entry, compiled.entry);
    assert!(recall(&engine, "fuel", &path, &mode).is_none());
    // (Entries are never changed in place while mapped: a mapped file that shrinks faults
    // the process mapping it. wcomp only ever replaces them by renaming.)
    drop(recalled);

    // Any write changes the change time, so the record no longer matches.
    std::fs::write(&path, wat::parse_str(WAT.replace("7", "8")).unwrap()).unwrap();
    assert!(recall(&engine, "plain", &path, &mode).is_none());

    // A record naming a damaged entry is not trusted either.
    remember_settled(&path, &compiled, &mode);
    std::fs::write(compiled.entry.as_ref().unwrap(), b"junk").unwrap();
    assert!(recall(&engine, "plain", &path, &mode).is_none());
}

#[test]
fn the_key_covers_the_engine_config_and_the_bytes() {
    let bytes = wat::parse_str(WAT).unwrap();
    assert_ne!(key(&engine(false), &bytes), key(&engine(true), &bytes));
    assert_eq!(key(&engine(false), &bytes), key(&engine(false), &bytes));
    let other = wat::parse_str(WAT.replace("i32.const 7", "i32.const 8")).unwrap();
    assert_ne!(key(&engine(false), &bytes), key(&engine(false), &other));
}

#[test]
fn a_warm_run_skips_the_checksum_only_of_an_entry_unchanged_since_it_passed() {
    let dir = tempfile::tempdir().unwrap();
    let mode = CacheMode::Dir(dir.path().join("cache"));
    let engine = engine(false);
    let path = dir.path().join("d.wasm");
    std::fs::write(&path, wat::parse_str(WAT).unwrap()).unwrap();
    let compiled = load_or_compile(&engine, &std::fs::read(&path).unwrap(), &mode).unwrap();
    // Just written: the entry's checksum has not been checked by a load yet.
    remember_settled(&path, &compiled, &mode);
    let index = index_path(&mode_dir(&mode), "plain", &path).unwrap();
    assert_eq!(std::fs::read_to_string(&index).unwrap().lines().count(), 1);
    let entry = compiled.entry.clone().unwrap();
    drop(compiled);

    // The first recall once the entry has settled checks it, and records its stamp.
    let later = SystemTime::now() + SETTLED * 2;
    let recalled = recall_as_of(&engine, "plain", &path, &mode, later).expect("recorded");
    assert_eq!(answer(&engine, &recalled), 7);
    drop(recalled);
    let record = std::fs::read_to_string(&index).unwrap();
    let stamp = FileStamp::of(&entry).unwrap().to_string();
    assert_eq!(
        record.lines().nth(1),
        Some(format!("checked {stamp}").as_str())
    );

    // Damage to the entry (here its stored checksum) moves its stamp: checked, and refused.
    let mut data = std::fs::read(&entry).unwrap();
    let checksum = data.len() - TRAILER + Source::LEN;
    data[checksum] ^= 0xff;
    std::fs::write(&entry, &data).unwrap();
    assert!(recall_as_of(&engine, "plain", &path, &mode, later).is_none());

    // A record vouching for the entry as it now is: its checksum is not read at all.
    let first = record.lines().next().unwrap();
    let stamp = FileStamp::of(&entry).unwrap();
    std::fs::write(&index, format!("{first}\nchecked {stamp}\n")).unwrap();
    let recalled = recall_as_of(&engine, "plain", &path, &mode, later).expect("vouched for");
    assert_eq!(answer(&engine, &recalled), 7);
    drop(recalled);
    // A record for another stamp is not enough.
    std::fs::write(&index, format!("{first}\nchecked v1 0 0 0 0.0 0.0\n")).unwrap();
    assert!(recall_as_of(&engine, "plain", &path, &mode, later).is_none());
}

/// Writes a fake entry of `len` bytes last used `age` ago.
fn aged_entry(dir: &Path, name: &str, len: usize, age: Duration) -> PathBuf {
    let path = dir.join(format!("{name}.cwasm"));
    std::fs::write(&path, vec![0u8; len]).unwrap();
    let when = SystemTime::now() - age;
    let times = std::fs::FileTimes::new()
        .set_accessed(when)
        .set_modified(when);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_times(times)
        .unwrap();
    path
}

#[test]
fn trimming_removes_the_entries_used_longest_ago_and_spares_the_one_just_written() {
    let dir = tempfile::tempdir().unwrap();
    let hour = Duration::from_secs(3600);
    let oldest = aged_entry(dir.path(), "a", 100, hour * 4);
    let old = aged_entry(dir.path(), "b", 100, hour * 3);
    let recent = aged_entry(dir.path(), "c", 100, hour * 2);
    let newest = aged_entry(dir.path(), "d", 100, hour);
    // Neither index records nor other files count or go.
    std::fs::create_dir(dir.path().join("index")).unwrap();
    std::fs::write(dir.path().join("index").join("record"), "x").unwrap();
    std::fs::write(dir.path().join("notes.txt"), vec![0u8; 1000]).unwrap();

    let trimmed = trim(dir.path(), 250, None).unwrap();
    assert_eq!(
        trimmed,
        Trimmed {
            files: 2,
            bytes: 200,
            kept_files: 2,
            kept_bytes: 200
        }
    );
    assert!(!oldest.exists() && !old.exists());
    assert!(recent.exists() && newest.exists());
    assert!(dir.path().join("index").join("record").exists());
    assert!(dir.path().join("notes.txt").exists());

    // Within the bound: nothing goes.
    assert_eq!(trim(dir.path(), 200, None).unwrap().files, 0);

    // The spared entry stays even when it is the oldest and alone over the bound.
    let spared = aged_entry(dir.path(), "e", 500, hour * 10);
    let trimmed = trim(dir.path(), 100, Some(&spared)).unwrap();
    assert_eq!((trimmed.files, trimmed.kept_files), (2, 1));
    assert!(spared.exists() && !recent.exists() && !newest.exists());
}

#[test]
fn an_entry_trimmed_away_is_a_miss_and_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let mode = CacheMode::Dir(dir.path().to_owned());
    let engine = engine(false);
    let first = load_or_compile(&engine, &wat::parse_str(WAT).unwrap(), &mode).unwrap();
    let first_entry = first.entry.clone().unwrap();
    let len = std::fs::metadata(&first_entry).unwrap().len();
    // Make the first entry look a day old, then bound the cache to one entry's size.
    let day_ago = SystemTime::now() - Duration::from_secs(86_400);
    std::fs::File::options()
        .write(true)
        .open(&first_entry)
        .unwrap()
        .set_times(
            std::fs::FileTimes::new()
                .set_accessed(day_ago)
                .set_modified(day_ago),
        )
        .unwrap();
    let trimmed = trim(dir.path(), len + len / 2, None).unwrap();
    assert_eq!(trimmed.files, 0, "one entry fits");

    let second = load_or_compile(&engine, &other(), &mode).unwrap();
    let second_entry = second.entry.clone().unwrap();
    assert!(first_entry.exists() && second_entry.exists());
    let trimmed = trim(dir.path(), len + len / 2, Some(&second_entry)).unwrap();
    assert_eq!(trimmed.files, 1);
    assert!(!first_entry.exists() && second_entry.exists());
    assert_eq!(answer(&engine, &second), 70000);
    // The removed entry is a miss, compiled and stored again.
    let again = load_or_compile(&engine, &wat::parse_str(WAT).unwrap(), &mode).unwrap();
    assert_eq!(again.outcome, CacheOutcome::Miss);
    assert_eq!(answer(&engine, &again), 7);
}

#[test]
fn a_cache_bound_is_a_size_or_none() {
    assert_eq!(parse_max_size("512MiB").unwrap(), Some(512 << 20));
    assert_eq!(parse_max_size(" 10GiB ").unwrap(), Some(10 << 30));
    assert_eq!(parse_max_size("none").unwrap(), None);
    assert!(parse_max_size("lots").is_err());
    assert!(parse_max_size("0").is_err());
}
