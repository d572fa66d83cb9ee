-- A results database as cowsim wrote it at schema version 1 (commit
-- cdeddc0, 'cowsim replay eng-observed.scn --policy linux-5.7,linux-6.12
-- --faults'), dumped with the sqlite3 shell.  tests/test_store.c loads it
-- and checks that opening it migrates it to the current version intact.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE traces (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  format TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  events INTEGER NOT NULL,
  processes INTEGER NOT NULL,
  threads INTEGER NOT NULL,
  forks INTEGER NOT NULL,
  write_faults INTEGER NOT NULL,
  labels INTEGER NOT NULL,
  start_ts INTEGER,
  dur INTEGER,
  dropped INTEGER,
  faults_stored INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL
);
INSERT INTO traces VALUES(1,'81c804cf9f80c5fdef4cc1b70440cb83','eng-observed.scn','/home/user/cowsim/traces/scenarios/eng-observed.scn','scenario',516,12,2,2,1,5,2,1001000,11000,NULL,1,'2026-11-22T06:04:38Z');
CREATE TABLE trace_meta (
  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (trace_id, key)
) WITHOUT ROWID;
INSERT INTO trace_meta VALUES(1,'scenario','agreement with observed outcomes');
CREATE TABLE processes (
  upid INTEGER PRIMARY KEY,
  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
  pid INTEGER NOT NULL,
  tgid INTEGER NOT NULL,
  comm TEXT,
  exe TEXT,
  parent_upid INTEGER REFERENCES processes(upid),
  start_ts INTEGER,
  end_ts INTEGER,
  threads INTEGER NOT NULL
);
INSERT INTO processes VALUES(1,1,1000,1000,'P','P',NULL,NULL,NULL,1);
INSERT INTO processes VALUES(2,1,1001,1001,'P','P',1,1006000,1007000,1);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  trace_id INTEGER NOT NULL REFERENCES traces(id),
  run_key TEXT NOT NULL UNIQUE,
  policy TEXT NOT NULL,
  model TEXT NOT NULL,
  kernel TEXT,
  description TEXT,
  config TEXT NOT NULL,
  created TEXT NOT NULL,
  cowsim_version TEXT,
  replay_seconds REAL,
  memory_peak_bytes INTEGER,
  faults_logged INTEGER NOT NULL DEFAULT 0,
  events INTEGER,
  forks INTEGER,
  threads INTEGER,
  execs INTEGER,
  exits INTEGER,
  faults INTEGER,
  write_faults INTEGER,
  wp_faults INTEGER,
  copies_fault INTEGER,
  copies_file INTEGER,
  zero_fills INTEGER,
  copies_fork INTEGER,
  reuses INTEGER,
  new_pages INTEGER,
  unnecessary_copies INTEGER,
  unnecessary_fork_copies INTEGER,
  leaks INTEGER,
  lost_pins INTEGER,
  gups INTEGER,
  gup_pages INTEGER,
  gup_unshares INTEGER,
  gup_cow_breaks INTEGER,
  gup_refused INTEGER,
  refcount_overflows INTEGER,
  swapouts INTEGER,
  swapout_refused INTEGER,
  swapins INTEGER,
  ksm_merges INTEGER,
  ksm_refused INTEGER,
  migrations INTEGER,
  migrate_refused INTEGER,
  lru_drains INTEGER,
  ptes_copied INTEGER,
  pt_pages_copied INTEGER,
  spurious_faults INTEGER,
  bad_faults INTEGER,
  segv_faults INTEGER,
  inferred_vmas INTEGER,
  phantom_mappers INTEGER,
  unknown_tasks INTEGER,
  unknown_handles INTEGER,
  labelled INTEGER,
  agree INTEGER,
  observed_copies INTEGER,
  observed_reuses INTEGER,
  observed_zero_fills INTEGER,
  peak_frames INTEGER,
  final_frames INTEGER,
  peak_anon_frames INTEGER,
  peak_pt_pages INTEGER,
  final_pt_pages INTEGER,
  max_refcount INTEGER,
  max_mapcount INTEGER,
  fork_latency_ns_p50 INTEGER,
  fork_latency_ns_p99 INTEGER,
  fork_latency_ns_max INTEGER,
  fork_latency_ns_sum INTEGER,
  fault_latency_ns_sum INTEGER,
  observed_fork_latency_ns_p50 INTEGER,
  observed_forks INTEGER
);
INSERT INTO runs VALUES(1,1,'d4fba7f199fed624458c4b605f8aeee0','linux-5.7','mapcount','5.7','reuse by mapcount+swapcount; GUP refs ignored; fork shares pinned pages',replace('[policy]\nname = linux-5.7\nmodel = mapcount\nkernel = 5.7\ndescription = reuse by mapcount+swapcount; GUP refs ignored; fork shares pinned pages\n\n[switches]\ngup_forces_cow_break = false\npin_bias = 1024\nearly_cow = none\nfork_gup_fast_guard = false\nwp_swapcache_opt = false\nwp_lru_drain = false\nswapin = mapcount\nswapin_lru_drain = false\nswapout_skip_pinned = false\nswapout_recheck_pinned = false\nreuse_ksm = true\nmprotect_excl_writable = false\nro_pin_unshare = false\nro_pin_unshare_nonanon = false\ngup_overflow_check = true\nzero_page_pin_noref = false\nexit_drains_lru = true\nmunmap_drains_lru = true\nlru_batch = 15\n\n[cost]\nfork_base_ns = 60000\nvfork_base_ns = 20000\nfork_per_vma_ns = 400\nfork_per_pt_page_ns = 400\nfork_per_pte_ns = 55\nfork_per_copy_ns = 1000\nfault_base_ns = 700\nfault_per_copy_ns = 1000\nfault_per_zero_ns = 400\nfork_per_copied_vma_ns = 0\nfork_per_file_vma_ns = 0\n','\n',char(10)),'2026-11-22T06:04:38Z','unknown',5.2167999456287361681e-05,1136564,1,12,1,0,1,1,6,5,2,0,0,0,0,2,3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,3,4,1,0,0,0,0,0,0,2,0,2,0,0,3,3,3,8,4,3,2,62165,62165,62165,62165,5400,0,0);
INSERT INTO runs VALUES(2,1,'ce1613f4146dbde57bf6c623cfb25942','linux-6.12','anon-exclusive','6.12','PG_anon_exclusive: reuse exclusive pages; R/O pins unshare; swp_exclusive',replace('[policy]\nname = linux-6.12\nmodel = anon-exclusive\nkernel = 6.12\ndescription = PG_anon_exclusive: reuse exclusive pages; R/O pins unshare; swp_exclusive\n\n[switches]\ngup_forces_cow_break = false\npin_bias = 1024\nearly_cow = pinned\nfork_gup_fast_guard = true\nwp_swapcache_opt = true\nwp_lru_drain = true\nswapin = exclusive\nswapin_lru_drain = true\nswapout_skip_pinned = true\nswapout_recheck_pinned = true\nreuse_ksm = false\nmprotect_excl_writable = true\nro_pin_unshare = true\nro_pin_unshare_nonanon = true\ngup_overflow_check = true\nzero_page_pin_noref = true\nexit_drains_lru = true\nmunmap_drains_lru = true\nlru_batch = 31\n\n[cost]\nfork_base_ns = 60000\nvfork_base_ns = 20000\nfork_per_vma_ns = 400\nfork_per_pt_page_ns = 400\nfork_per_pte_ns = 55\nfork_per_copy_ns = 1000\nfault_base_ns = 700\nfault_per_copy_ns = 1000\nfault_per_zero_ns = 400\nfork_per_copied_vma_ns = 0\nfork_per_file_vma_ns = 0\n','\n',char(10)),'2026-11-22T06:04:38Z','unknown',3.3911000173247884958e-05,1136692,1,12,1,0,1,1,6,5,2,2,0,0,0,0,3,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,3,4,1,0,0,0,0,0,0,2,2,2,0,0,5,5,5,8,4,3,2,62165,62165,62165,62165,7400,0,0);
CREATE TABLE forks (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  ts INTEGER NOT NULL,
  parent_upid INTEGER REFERENCES processes(upid),
  child_upid INTEGER REFERENCES processes(upid),
  parent_tid INTEGER NOT NULL,
  child_tid INTEGER NOT NULL,
  clone_flags INTEGER NOT NULL,
  vmas INTEGER NOT NULL,
  ptes INTEGER NOT NULL,
  pt_pages INTEGER NOT NULL,
  pages_copied INTEGER NOT NULL,
  dur INTEGER NOT NULL,
  observed_dur INTEGER
);
INSERT INTO forks VALUES(1,1,1006000,1,2,1000,1001,0,1,3,4,0,62165,NULL);
INSERT INTO forks VALUES(2,2,1006000,1,2,1000,1001,0,1,3,4,0,62165,NULL);
CREATE TABLE faults (
  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  upid INTEGER REFERENCES processes(upid),
  tid INTEGER NOT NULL,
  addr INTEGER NOT NULL,
  user INTEGER NOT NULL,
  observed TEXT,
  PRIMARY KEY (trace_id, seq)
) WITHOUT ROWID;
INSERT INTO faults VALUES(1,2,1003000,1,1000,139637976727552,1,NULL);
INSERT INTO faults VALUES(1,3,1004000,1,1000,139637976731648,1,NULL);
INSERT INTO faults VALUES(1,4,1005000,1,1000,139637976735744,1,NULL);
INSERT INTO faults VALUES(1,7,1008000,1,1000,139637976727552,1,'copy');
INSERT INTO faults VALUES(1,10,1011000,1,1000,139637976735744,1,'copy');
CREATE TABLE fault_decisions (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
INSERT INTO fault_decisions VALUES(1,2,'new');
INSERT INTO fault_decisions VALUES(1,3,'new');
INSERT INTO fault_decisions VALUES(1,4,'new');
INSERT INTO fault_decisions VALUES(1,7,'reuse');
INSERT INTO fault_decisions VALUES(1,10,'reuse');
INSERT INTO fault_decisions VALUES(2,2,'new');
INSERT INTO fault_decisions VALUES(2,3,'new');
INSERT INTO fault_decisions VALUES(2,4,'new');
INSERT INTO fault_decisions VALUES(2,7,'copy');
INSERT INTO fault_decisions VALUES(2,10,'copy');
CREATE TABLE metric_docs (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  description TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO metric_docs VALUES('agree','counter','labelled faults whose predicted outcome matches the kernel''s');
INSERT INTO metric_docs VALUES('bad_faults','counter','faults outside any mapping (skipped)');
INSERT INTO metric_docs VALUES('copies_fault','counter','anon->anon COW copies at fault (incl. GUP-triggered and unshare)');
INSERT INTO metric_docs VALUES('copies_file','counter','file->anon copies at write fault in private file mappings');
INSERT INTO metric_docs VALUES('copies_fork','counter','pages copied at fork (early COW)');
INSERT INTO metric_docs VALUES('events','counter','events replayed');
INSERT INTO metric_docs VALUES('execs','counter','execve() calls');
INSERT INTO metric_docs VALUES('exits','counter','task exits');
INSERT INTO metric_docs VALUES('fault_latency_ns_sum','gauge','modeled fault latency, total');
INSERT INTO metric_docs VALUES('faults','counter','page-fault events');
INSERT INTO metric_docs VALUES('final_frames','gauge','frames allocated at the end');
INSERT INTO metric_docs VALUES('final_pt_pages','gauge','page-table pages at the end');
INSERT INTO metric_docs VALUES('fork_latency_ns_max','gauge','modeled fork latency, maximum');
INSERT INTO metric_docs VALUES('fork_latency_ns_p50','gauge','modeled fork latency, median');
INSERT INTO metric_docs VALUES('fork_latency_ns_p99','gauge','modeled fork latency, 99th percentile');
INSERT INTO metric_docs VALUES('fork_latency_ns_sum','gauge','modeled fork latency, total');
INSERT INTO metric_docs VALUES('forks','counter','process creations (fork, vfork, clone without CLONE_THREAD)');
INSERT INTO metric_docs VALUES('gup_cow_breaks','counter','GUP calls that broke COW with a write fault');
INSERT INTO metric_docs VALUES('gup_pages','counter','pages GUP referenced');
INSERT INTO metric_docs VALUES('gup_refused','counter','GUP references refused (refcount overflow guard, no mapping)');
INSERT INTO metric_docs VALUES('gup_unshares','counter','R/O pins that had to unshare first');
INSERT INTO metric_docs VALUES('gups','counter','GUP calls');
INSERT INTO metric_docs VALUES('inferred_vmas','counter','mappings the importer had to infer');
INSERT INTO metric_docs VALUES('ksm_merges','counter','pages merged by KSM');
INSERT INTO metric_docs VALUES('ksm_refused','counter','KSM merges refused (extra references)');
INSERT INTO metric_docs VALUES('labelled','counter','faults with a kernel-observed outcome');
INSERT INTO metric_docs VALUES('leaks','counter','GUP references through which another process''s post-fork writes became visible');
INSERT INTO metric_docs VALUES('lost_pins','counter','pins whose page stopped backing the pinner''s mapping after a COW');
INSERT INTO metric_docs VALUES('lru_drains','counter','per-CPU LRU batch drains');
INSERT INTO metric_docs VALUES('max_mapcount','gauge','highest page mapcount seen');
INSERT INTO metric_docs VALUES('max_refcount','gauge','highest page refcount seen');
INSERT INTO metric_docs VALUES('migrate_refused','counter','migrations refused (extra references)');
INSERT INTO metric_docs VALUES('migrations','counter','pages migrated');
INSERT INTO metric_docs VALUES('new_pages','counter','first-touch anonymous pages');
INSERT INTO metric_docs VALUES('observed_copies','counter','faults the kernel resolved by copying');
INSERT INTO metric_docs VALUES('observed_fork_latency_ns_p50','gauge','kernel-observed fork latency, median');
INSERT INTO metric_docs VALUES('observed_forks','gauge','forks with an observed latency');
INSERT INTO metric_docs VALUES('observed_reuses','counter','write-protect faults the kernel resolved by reuse');
INSERT INTO metric_docs VALUES('observed_zero_fills','counter','faults the kernel resolved with a zeroed page');
INSERT INTO metric_docs VALUES('peak_anon_frames','gauge','peak anonymous frames');
INSERT INTO metric_docs VALUES('peak_frames','gauge','peak allocated frames (anonymous + page cache)');
INSERT INTO metric_docs VALUES('peak_pt_pages','gauge','peak page-table pages');
INSERT INTO metric_docs VALUES('phantom_mappers','counter','mappers of initial pages that the trace does not show');
INSERT INTO metric_docs VALUES('pt_pages_copied','counter','page-table pages allocated for fork children');
INSERT INTO metric_docs VALUES('ptes_copied','counter','PTEs copied at fork');
INSERT INTO metric_docs VALUES('refcount_overflows','counter','page refcounts pushed past INT_MAX');
INSERT INTO metric_docs VALUES('reuses','counter','write-protected anon pages reused in place');
INSERT INTO metric_docs VALUES('segv_faults','counter','faults the mapping''s protection forbids (skipped)');
INSERT INTO metric_docs VALUES('spurious_faults','counter','faults on PTEs that already allowed the access');
INSERT INTO metric_docs VALUES('swapins','counter','pages read back from swap');
INSERT INTO metric_docs VALUES('swapout_refused','counter','swap-outs refused (pinned, shared for PAGEOUT, no swap)');
INSERT INTO metric_docs VALUES('swapouts','counter','pages swapped out');
INSERT INTO metric_docs VALUES('threads','counter','threads created (CLONE_THREAD)');
INSERT INTO metric_docs VALUES('unknown_handles','counter','GUP releases of unknown handles');
INSERT INTO metric_docs VALUES('unknown_tasks','counter','events of tasks never seen (a task was invented)');
INSERT INTO metric_docs VALUES('unnecessary_copies','counter','COW copies where the faulting mm was the only mapper and no GUP reference existed');
INSERT INTO metric_docs VALUES('unnecessary_fork_copies','counter','early COW copies at fork of pages no GUP reference held');
INSERT INTO metric_docs VALUES('wp_faults','counter','write faults on present write-protected PTEs');
INSERT INTO metric_docs VALUES('write_faults','counter','page faults that were writes');
INSERT INTO metric_docs VALUES('zero_fills','counter','writes to the shared zero page (allocate and clear)');
CREATE INDEX processes_trace ON processes(trace_id);
CREATE INDEX runs_trace ON runs(trace_id, policy);
CREATE INDEX forks_run ON forks(run_id);
CREATE VIEW latest_runs AS
  SELECT r.* FROM runs r
  WHERE r.id = (SELECT max(id) FROM runs x
                WHERE x.trace_id = r.trace_id AND x.policy = r.policy);
CREATE VIEW side_by_side AS
  SELECT t.id AS trace_id, t.name AS trace, r.policy, r.model,
         r.id AS run_id,
         r.copies_fault + r.copies_file + r.copies_fork AS copies,
         r.copies_fault, r.copies_file, r.copies_fork, r.zero_fills,
         r.unnecessary_copies + r.unnecessary_fork_copies AS unnecessary,
         r.reuses, r.peak_frames, r.peak_pt_pages,
         r.fork_latency_ns_p50, r.fork_latency_ns_p99,
         r.leaks, r.lost_pins, r.labelled, r.agree,
         CASE WHEN r.labelled > 0
              THEN round(100.0 * r.agree / r.labelled, 2) END
           AS agree_pct,
         r.replay_seconds
  FROM latest_runs r JOIN traces t ON t.id = r.trace_id
  ORDER BY t.id, r.id;
CREATE VIEW fork_latency AS
  WITH m AS (
    SELECT f.run_id, f.dur,
           row_number() OVER (PARTITION BY f.run_id ORDER BY f.dur) AS rn,
           count(*) OVER (PARTITION BY f.run_id) AS n
    FROM forks f JOIN latest_runs r ON r.id = f.run_id),
  o AS (
    SELECT f.run_id, f.observed_dur AS dur,
           row_number() OVER (PARTITION BY f.run_id
                              ORDER BY f.observed_dur) AS rn,
           count(*) OVER (PARTITION BY f.run_id) AS n
    FROM forks f JOIN latest_runs r ON r.id = f.run_id
    WHERE f.observed_dur IS NOT NULL),
  ms AS (
    SELECT run_id, max(n) AS forks,
           max(CASE WHEN rn = (50 * n + 99) / 100 THEN dur END) AS p50,
           max(CASE WHEN rn = (90 * n + 99) / 100 THEN dur END) AS p90,
           max(CASE WHEN rn = (99 * n + 99) / 100 THEN dur END) AS p99,
           max(dur) AS max, avg(dur) AS mean
    FROM m GROUP BY run_id),
  os AS (
    SELECT run_id, max(n) AS forks,
           max(CASE WHEN rn = (50 * n + 99) / 100 THEN dur END) AS p50,
           max(CASE WHEN rn = (90 * n + 99) / 100 THEN dur END) AS p90,
           max(CASE WHEN rn = (99 * n + 99) / 100 THEN dur END) AS p99,
           max(dur) AS max
    FROM o GROUP BY run_id)
  SELECT t.id AS trace_id, t.name AS trace, r.policy, r.id AS run_id,
         coalesce(ms.forks, 0) AS forks,
         ms.p50 AS dur_p50, ms.p90 AS dur_p90, ms.p99 AS dur_p99,
         ms.max AS dur_max, ms.mean AS dur_mean,
         coalesce(os.forks, 0) AS observed_forks,
         os.p50 AS observed_p50, os.p90 AS observed_p90,
         os.p99 AS observed_p99, os.max AS observed_max
  FROM latest_runs r JOIN traces t ON t.id = r.trace_id
  LEFT JOIN ms ON ms.run_id = r.id LEFT JOIN os ON os.run_id = r.id
  ORDER BY t.id, r.id;
CREATE VIEW agreement AS
  SELECT t.id AS trace_id, t.name AS trace, r.policy, r.id AS run_id,
         r.labelled, r.agree,
         CASE WHEN r.labelled > 0
              THEN round(100.0 * r.agree / r.labelled, 2) END
           AS agree_pct,
         r.copies_fault + r.copies_file AS predicted_copies,
         r.observed_copies, r.reuses AS predicted_reuses,
         r.observed_reuses,
         r.zero_fills + r.new_pages AS predicted_zero_fills,
         r.observed_zero_fills
  FROM latest_runs r JOIN traces t ON t.id = r.trace_id
  ORDER BY t.id, r.id;
CREATE VIEW agreement_by_policy AS
  SELECT policy, count(*) AS traces, sum(labelled) AS labelled,
         sum(agree) AS agree,
         CASE WHEN sum(labelled) > 0
              THEN round(100.0 * sum(agree) / sum(labelled), 2) END
           AS agree_pct
  FROM latest_runs WHERE labelled > 0
  GROUP BY policy ORDER BY min(id);
CREATE VIEW fault_outcomes AS
  SELECT r.trace_id, d.run_id, r.policy, f.seq, f.ts, f.upid, f.tid,
         f.addr, f.user, d.outcome, f.observed
  FROM fault_decisions d JOIN runs r ON r.id = d.run_id
  JOIN faults f ON f.trace_id = r.trace_id AND f.seq = d.seq;
COMMIT;
PRAGMA user_version = 1;
PRAGMA application_id = 1668249459;
