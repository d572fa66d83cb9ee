-- A results database as cowsim wrote it at schema version 3 (commit
-- 9a23a04 of main, 'cowsim replay kv.ev --policy linux-6.12', kv.ev made
-- by tests/mktrace with 3 snapshots: 3 forks, a vfork and a CLONE_VM
-- clone, each with its kernel-observed time), its trace path then made
-- relative ('fixture/kv.ev'), the host's kernel blanked, all but two of
-- its samples dropped, dumped with the sqlite3 shell.  The forks table
-- has no kind then: tests/test_store.c loads it and checks that opening it
-- migrates it to the current version with each fork's kind filled in and
-- the vfork and the clone left out of the fork latency.
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
, capture_kernel TEXT);
INSERT INTO traces VALUES(1,'bbca80050953b72866d6b37069cda0cf','kv.ev','fixture/kv.ev','events',32392,671,6,6,5,554,97,1001000,670000,NULL,0,'2026-12-03T16:33:45Z',NULL);
CREATE TABLE trace_meta (
  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (trace_id, key)
) WITHOUT ROWID;
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
INSERT INTO processes VALUES(1,1,100,100,'kvstore','/usr/bin/kvstore',NULL,NULL,NULL,1);
INSERT INTO processes VALUES(2,1,2000,2000,'kvstore','/usr/bin/kvstore',1,1585000,1595000,1);
INSERT INTO processes VALUES(3,1,2001,2001,'kvstore','/usr/bin/kvstore',1,1613000,1623000,1);
INSERT INTO processes VALUES(4,1,3001,3001,'sh','/bin/sh',1,1637000,1640000,1);
INSERT INTO processes VALUES(5,1,2002,2002,'kvstore','/usr/bin/kvstore',1,1645000,1655000,1);
INSERT INTO processes VALUES(6,1,3002,3002,'kvstore','/usr/bin/kvstore',1,1669000,1671000,1);
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
, policy_order TEXT, cost_preset TEXT, selection TEXT, command_line TEXT, host_kernel_release TEXT, host_kernel_version TEXT);
INSERT INTO runs VALUES(1,1,'1932033c84744b99c7fbccf4ec447e65','linux-6.12','anon-exclusive','6.12','PG_anon_exclusive: reuse exclusive pages; R/O pins unshare; swp_exclusive',replace('[policy]\nname = linux-6.12\nmodel = anon-exclusive\nkernel = 6.12\ndescription = PG_anon_exclusive: reuse exclusive pages; R/O pins unshare; swp_exclusive\n\n[switches]\ngup_forces_cow_break = false\npin_bias = 1024\nearly_cow = pinned\nfork_gup_fast_guard = true\nwp_swapcache_opt = true\nwp_lru_drain = true\nswapin = exclusive\nswapin_lru_drain = true\nswapout_skip_pinned = true\nswapout_recheck_pinned = true\nreuse_ksm = false\nmprotect_excl_writable = true\nro_pin_unshare = true\nro_pin_unshare_nonanon = true\ngup_overflow_check = true\nzero_page_pin_noref = true\nexit_drains_lru = true\nmunmap_drains_lru = true\nlru_batch = 31\n\n[cost]\nfork_base_ns = 55000\nvfork_base_ns = 17000\nfork_per_vma_ns = 1000\nfork_per_pt_page_ns = 400\nfork_per_pte_ns = 55\nfork_per_copy_ns = 1000\nfault_base_ns = 700\nfault_per_copy_ns = 1000\nfault_per_zero_ns = 400\nfork_per_copied_vma_ns = 0\nfork_per_file_vma_ns = 0\n','\n',char(10)),'2026-12-03T16:33:45Z','0.2-g9a23a04',0.00056627899903105571866,2181820,0,671,5,0,2,5,554,554,36,18,0,0,0,18,518,6,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,23,1548,15,0,0,0,0,0,0,0,97,91,12,15,70,526,524,526,10,5,3,2,86380,86490,86490,259140,613000,213000,3,'0 linux-0000000006.0000000012','x86-64',NULL,'cowsim replay fixture/kv.ev --policy linux-6.12',NULL,NULL);
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
INSERT INTO forks VALUES(1,1,1585000,1,2,100,2000,0,1,514,5,0,86270,150000);
INSERT INTO forks VALUES(2,1,1613000,1,3,100,2001,0,1,516,5,0,86380,213000);
INSERT INTO forks VALUES(3,1,1637000,1,4,100,3001,16640,0,0,0,0,17000,711000);
INSERT INTO forks VALUES(4,1,1645000,1,5,100,2002,0,1,518,5,0,86490,276000);
INSERT INTO forks VALUES(5,1,1669000,1,6,100,3002,256,0,0,0,0,17000,40000);
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
CREATE TABLE fault_decisions (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE metric_docs (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  description TEXT NOT NULL
, unit TEXT) WITHOUT ROWID;
INSERT INTO metric_docs VALUES('agree','counter','labelled faults whose predicted outcome matches the kernel''s','count');
INSERT INTO metric_docs VALUES('bad_faults','counter','faults outside any mapping (skipped)','count');
INSERT INTO metric_docs VALUES('copies_fault','counter','anon->anon COW copies at fault (incl. GUP-triggered and unshare)','pages');
INSERT INTO metric_docs VALUES('copies_file','counter','file->anon copies at write fault in private file mappings','pages');
INSERT INTO metric_docs VALUES('copies_fork','counter','pages copied at fork (early COW)','pages');
INSERT INTO metric_docs VALUES('events','counter','events replayed','count');
INSERT INTO metric_docs VALUES('execs','counter','execve() calls','count');
INSERT INTO metric_docs VALUES('exits','counter','task exits','count');
INSERT INTO metric_docs VALUES('fault_latency_ns_sum','gauge','modeled fault latency, total','ns');
INSERT INTO metric_docs VALUES('faults','counter','page-fault events','count');
INSERT INTO metric_docs VALUES('final_frames','gauge','frames allocated at the end','pages');
INSERT INTO metric_docs VALUES('final_pt_pages','gauge','page-table pages at the end','pages');
INSERT INTO metric_docs VALUES('fork_latency_ns_max','gauge','modeled fork latency, maximum','ns');
INSERT INTO metric_docs VALUES('fork_latency_ns_p50','gauge','modeled fork latency, median','ns');
INSERT INTO metric_docs VALUES('fork_latency_ns_p99','gauge','modeled fork latency, 99th percentile','ns');
INSERT INTO metric_docs VALUES('fork_latency_ns_sum','gauge','modeled fork latency, total','ns');
INSERT INTO metric_docs VALUES('forks','counter','process creations (fork, vfork, clone without CLONE_THREAD)','count');
INSERT INTO metric_docs VALUES('gup_cow_breaks','counter','GUP calls that broke COW with a write fault','count');
INSERT INTO metric_docs VALUES('gup_pages','counter','pages GUP referenced','pages');
INSERT INTO metric_docs VALUES('gup_refused','counter','GUP references refused (refcount overflow guard, no mapping)','count');
INSERT INTO metric_docs VALUES('gup_unshares','counter','R/O pins that had to unshare first','count');
INSERT INTO metric_docs VALUES('gups','counter','GUP calls','count');
INSERT INTO metric_docs VALUES('inferred_vmas','counter','mappings the importer had to infer','count');
INSERT INTO metric_docs VALUES('ksm_merges','counter','pages merged by KSM','pages');
INSERT INTO metric_docs VALUES('ksm_refused','counter','KSM merges refused (extra references)','pages');
INSERT INTO metric_docs VALUES('labelled','counter','faults with a kernel-observed outcome','count');
INSERT INTO metric_docs VALUES('leaks','counter','GUP references through which another process''s post-fork writes became visible','count');
INSERT INTO metric_docs VALUES('lost_pins','counter','pins whose page stopped backing the pinner''s mapping after a COW','count');
INSERT INTO metric_docs VALUES('lru_drains','counter','per-CPU LRU batch drains','count');
INSERT INTO metric_docs VALUES('max_mapcount','gauge','highest page mapcount seen','count');
INSERT INTO metric_docs VALUES('max_refcount','gauge','highest page refcount seen','count');
INSERT INTO metric_docs VALUES('migrate_refused','counter','migrations refused (extra references)','pages');
INSERT INTO metric_docs VALUES('migrations','counter','pages migrated','pages');
INSERT INTO metric_docs VALUES('new_pages','counter','first-touch anonymous pages','pages');
INSERT INTO metric_docs VALUES('observed_copies','counter','faults the kernel resolved by copying','count');
INSERT INTO metric_docs VALUES('observed_fork_latency_ns_p50','gauge','kernel-observed fork latency, median','ns');
INSERT INTO metric_docs VALUES('observed_forks','gauge','forks with an observed latency','count');
INSERT INTO metric_docs VALUES('observed_reuses','counter','write-protect faults the kernel resolved by reuse','count');
INSERT INTO metric_docs VALUES('observed_zero_fills','counter','faults the kernel resolved with a zeroed page','count');
INSERT INTO metric_docs VALUES('peak_anon_frames','gauge','peak anonymous frames','pages');
INSERT INTO metric_docs VALUES('peak_frames','gauge','peak allocated frames (anonymous + page cache)','pages');
INSERT INTO metric_docs VALUES('peak_pt_pages','gauge','peak page-table pages','pages');
INSERT INTO metric_docs VALUES('phantom_mappers','counter','mappers of initial pages that the trace does not show','count');
INSERT INTO metric_docs VALUES('pt_pages_copied','counter','page-table pages allocated for fork children','pages');
INSERT INTO metric_docs VALUES('ptes_copied','counter','PTEs copied at fork','count');
INSERT INTO metric_docs VALUES('refcount_overflows','counter','page refcounts pushed past INT_MAX','count');
INSERT INTO metric_docs VALUES('reuses','counter','write-protected anon pages reused in place','pages');
INSERT INTO metric_docs VALUES('segv_faults','counter','faults the mapping''s protection forbids (skipped)','count');
INSERT INTO metric_docs VALUES('spurious_faults','counter','faults on PTEs that already allowed the access','count');
INSERT INTO metric_docs VALUES('swapins','counter','pages read back from swap','pages');
INSERT INTO metric_docs VALUES('swapout_refused','counter','swap-outs refused (pinned, shared for PAGEOUT, no swap)','pages');
INSERT INTO metric_docs VALUES('swapouts','counter','pages swapped out','pages');
INSERT INTO metric_docs VALUES('threads','counter','threads created (CLONE_THREAD)','count');
INSERT INTO metric_docs VALUES('unknown_handles','counter','GUP releases of unknown handles','count');
INSERT INTO metric_docs VALUES('unknown_tasks','counter','events of tasks never seen (a task was invented)','count');
INSERT INTO metric_docs VALUES('unnecessary_copies','counter','COW copies where the faulting mm was the only mapper and no GUP reference existed','pages');
INSERT INTO metric_docs VALUES('unnecessary_fork_copies','counter','early COW copies at fork of pages no GUP reference held','pages');
INSERT INTO metric_docs VALUES('wp_faults','counter','write faults on present write-protected PTEs','count');
INSERT INTO metric_docs VALUES('write_faults','counter','page faults that were writes','count');
INSERT INTO metric_docs VALUES('zero_fills','counter','writes to the shared zero page (allocate and clear)','pages');
CREATE TABLE samples (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  ts INTEGER NOT NULL,
  events INTEGER NOT NULL,
  copies INTEGER NOT NULL,
  zero_fills INTEGER NOT NULL,
  frames INTEGER NOT NULL,
  pt_pages INTEGER NOT NULL,
  PRIMARY KEY (run_id, events)
) WITHOUT ROWID;
INSERT INTO samples VALUES(1,1001000,1,0,0,0,1);
INSERT INTO samples VALUES(1,1671000,671,18,0,524,5);
CREATE TABLE markers (
  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  upid INTEGER REFERENCES processes(upid),
  text TEXT NOT NULL,
  PRIMARY KEY (trace_id, seq)
) WITHOUT ROWID;
INSERT INTO markers VALUES(1,2,1003000,1,'cowsim: phase load');
INSERT INTO markers VALUES(1,579,1580000,1,'cowsim: phase snapshots');
CREATE TABLE threads (
  utid INTEGER PRIMARY KEY,
  trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
  tid INTEGER NOT NULL,
  tgid INTEGER NOT NULL,
  upid INTEGER REFERENCES processes(upid),
  parent_utid INTEGER REFERENCES threads(utid),
  comm TEXT,
  first_ts INTEGER,
  start_ts INTEGER,
  end_ts INTEGER
);
INSERT INTO threads VALUES(1,1,100,100,1,NULL,'kvstore',1001000,NULL,NULL);
INSERT INTO threads VALUES(2,1,2000,2000,2,1,'kvstore',1585000,1585000,1595000);
INSERT INTO threads VALUES(3,1,2001,2001,3,1,'kvstore',1613000,1613000,1623000);
INSERT INTO threads VALUES(4,1,3001,3001,4,1,'sh',1637000,1637000,1640000);
INSERT INTO threads VALUES(5,1,2002,2002,5,1,'kvstore',1645000,1645000,1655000);
INSERT INTO threads VALUES(6,1,3002,3002,6,1,'kvstore',1669000,1669000,1671000);
CREATE INDEX processes_trace ON processes(trace_id);
CREATE INDEX runs_trace ON runs(trace_id, policy);
CREATE INDEX forks_run ON forks(run_id);
CREATE INDEX threads_trace ON threads(trace_id);
CREATE UNIQUE INDEX traces_name ON traces(name);
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
  ORDER BY t.id, r.policy_order, r.id;
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
  ORDER BY t.id, r.policy_order, r.id;
CREATE VIEW agreement AS
  SELECT t.id AS trace_id, t.name AS trace, r.policy, r.id AS run_id,
         r.labelled, r.agree, r.labelled - r.agree AS disagree,
         CASE WHEN r.labelled > 0
              THEN round(100.0 * r.agree / r.labelled, 2) END
           AS agree_pct,
         r.observed_copies, r.observed_reuses, r.observed_zero_fills
  FROM latest_runs r JOIN traces t ON t.id = r.trace_id
  ORDER BY t.id, r.policy_order, r.id;
CREATE VIEW agreement_by_policy AS
  SELECT policy, count(*) AS traces, sum(labelled) AS labelled,
         sum(agree) AS agree,
         CASE WHEN sum(labelled) > 0
              THEN round(100.0 * sum(agree) / sum(labelled), 2) END
           AS agree_pct
  FROM latest_runs WHERE labelled > 0
  GROUP BY policy ORDER BY min(policy_order), min(id);
CREATE VIEW fault_outcomes AS
  SELECT r.trace_id, d.run_id, r.policy, f.seq, f.ts, f.upid, f.tid,
         f.addr, f.user, d.outcome, f.observed
  FROM fault_decisions d JOIN runs r ON r.id = d.run_id
  JOIN faults f ON f.trace_id = r.trace_id AND f.seq = d.seq;
CREATE VIEW fault_confusion AS
  SELECT t.name AS trace, r.policy, d.run_id, f.observed, d.outcome,
         count(*) AS faults
  FROM fault_decisions d JOIN latest_runs r ON r.id = d.run_id
  JOIN traces t ON t.id = r.trace_id
  JOIN faults f ON f.trace_id = r.trace_id AND f.seq = d.seq
  WHERE f.observed IS NOT NULL
  GROUP BY d.run_id, f.observed, d.outcome
  ORDER BY t.id, r.policy_order, d.run_id, f.observed, d.outcome;
CREATE VIEW run_config AS
  WITH RECURSIVE l(run_id, n, line, rest, section) AS (
    SELECT id, 0, NULL, config || char(10), '' FROM runs
    UNION ALL
    SELECT run_id, n + 1,
           trim(substr(rest, 1, instr(rest, char(10)) - 1)),
           substr(rest, instr(rest, char(10)) + 1),
           CASE WHEN trim(substr(rest, 1, instr(rest, char(10)) - 1))
                     LIKE '[%]'
                THEN trim(substr(trim(substr(rest, 1,
                       instr(rest, char(10)) - 1)), 2,
                       length(trim(substr(rest, 1,
                       instr(rest, char(10)) - 1))) - 2))
                ELSE section END
    FROM l WHERE rest != '')
  SELECT run_id, section,
         trim(substr(line, 1, instr(line, '=') - 1)) AS key,
         trim(substr(line, instr(line, '=') + 1)) AS value
  FROM l WHERE instr(line, '=') > 1 AND line NOT LIKE ';%'
    AND line NOT LIKE '#%'
  ORDER BY run_id, n;
COMMIT;
PRAGMA user_version = 3;
PRAGMA application_id = 1668249459;
