/**
 * An independent, seeded model of a public API's traffic: 200 keys x 3 days (~3.6 M lines) of
 * benign patterns documented for real API traffic, plus labelled attacks. Written from those
 * facts, not from the detectors: it imports nothing from lambdas/domain/anomaly/. The sources
 * behind each pattern are cited in docs/anomaly-detection.md ("The evaluation traffic model").
 */
import { seededRandom } from "../../bin/local/seeded-random.js";
import { addressIn, NETWORKS, type NetworkPool, prefixOf, RESIDENTIAL } from "./networks.js";

export type BenignPattern =
  | "static_server"
  | "serverless_egress"
  | "ci_runner"
  | "mobile_fleet"
  | "office_nat"
  | "hourly_cron"
  | "midnight_batch"
  | "retry_storm"
  | "synthetic_monitoring"
  | "traveller"
  | "region_expansion"
  | "product_launch"
  | "dev_key"
  | "stale_key_poller"
  | "background_scanners"
  | "global_outage";

export type AttackKind =
  | "stuffing_residential_proxies"
  | "bruteforce_bad_checksum"
  | "scraper_ramp"
  | "low_and_slow"
  | "new_cloud_same_country"
  | "leaked_dev_key_in_learning"
  | "rate_abuse"
  | "foreign_hosting_use"
  | "use_after_compromise"
  | "revoked_key_new_network"
  | "asn_stuffing"
  | "botnet_fanout"
  | "impossible_travel";

export interface AttackLabel {
  id: string;
  kind: AttackKind;
  /** Keys the attacker used (empty for stuffing and brute force). */
  keyIds: string[];
  /** /24s the attacker sent from. */
  prefixes: Set<string>;
  /** Stuffing/brute force evidence may name no key: matched by time (and refused-key scope). */
  keyless: boolean;
  fromMinute: number;
  toMinute: number;
  /** Loud attacks must be found within 15 simulated minutes. */
  loud: boolean;
}

export interface KeyRegistryEntry {
  status: "active" | "compromised" | "revoked";
  projectId?: string;
  compromisedAt?: string;
  incidentId?: string;
  revokedAt?: string;
}

export interface TrafficModel {
  seed: number;
  variant: "tuning" | "holdout";
  /** Epoch ms of minute 0 (a Friday 00:00 UTC: the weekend is in the window). */
  start: number;
  minutes: number;
  attacks: AttackLabel[];
  /** Benign pattern of every key, and of every /24 only a benign pattern uses. */
  patternOfKey: Map<string, BenignPattern>;
  patternOfPrefix: Map<string, BenignPattern>;
  /** What the key registry says about registered keys. */
  registry: Map<string, KeyRegistryEntry>;
  /** Access-log lines of one minute (DESIGN.md format, stage field order), in time order. */
  minuteLines(minute: number): string[];
}

export interface TrafficModelOptions {
  seed?: number;
  variant?: "tuning" | "holdout";
  keys?: number;
  days?: number;
}

const DAY = 1_440;
const HOUR = 60;

type Emit = (minute: number, ip: string, keyId: string | undefined, status: number, agent: string) => void;

interface Actor {
  pattern: BenignPattern | undefined;
  attack?: AttackLabel;
  run(minute: number, emit: Emit): void;
}

function poisson(rand: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 40) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(rand)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Human-driven load over the local day: trough near 04:00 at ~30 % of the 14:00-15:00 peak
 * (the shape Cloudflare Radar and most published API dashboards show); weekends at `weekend`.
 */
function diurnal(minute: number, utcOffsetHours: number, weekend = 0.6): number {
  const local = minute + utcOffsetHours * HOUR;
  const hour = (((local % DAY) + DAY) % DAY) / HOUR;
  const day = Math.floor(local / DAY);
  // Day 0 is a Friday: days 1 and 2 are Saturday and Sunday.
  const isWeekend = day % 7 === 1 || day % 7 === 2;
  const shape = 0.3 + 0.7 * Math.max(0, Math.sin(((hour - 5) / 19) * Math.PI)) ** 1.5;
  return shape * (isWeekend ? weekend : 1);
}

function localHour(minute: number, utcOffsetHours: number): number {
  const local = minute + utcOffsetHours * HOUR;
  return (((local % DAY) + DAY) % DAY) / HOUR;
}

function isWeekendDay(minute: number, utcOffsetHours: number): boolean {
  const day = Math.floor((minute + utcOffsetHours * HOUR) / DAY);
  return day % 7 === 1 || day % 7 === 2;
}

const SERVER_AGENTS = [
  "node-fetch/1.0",
  "python-requests/2.31.0",
  "Go-http-client/1.1",
  "axios/1.6.7",
  "Java/17.0.9",
];
const DEV_AGENTS = ["curl/8.5.0", "python-requests/2.32.3", "PostmanRuntime/7.36.1", "HTTPie/3.2.2"];
const APP_AGENTS = ["okhttp/4.12.0", "MyApp/5.2 CFNetwork/1490.0.4 Darwin/23.2.0", "Electron/28.1.0"];
const OFFSET_OF: Record<string, number> = {
  US: -5,
  DE: 1,
  GB: 0,
  FR: 1,
  IN: 5.5,
  JP: 9,
  BR: -3,
  AU: 10,
  IT: 1,
  SE: 1,
  IE: 0,
};

export function createTrafficModel(options: TrafficModelOptions = {}): TrafficModel {
  const variant = options.variant ?? "tuning";
  const seed = options.seed ?? (variant === "tuning" ? 20260109 : 77001);
  const rand = seededRandom(seed);
  const keyCount = options.keys ?? 200;
  const minutes = (options.days ?? 3) * DAY;
  const start = Date.UTC(2026, 0, 9); // Friday
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const between = (lo: number, hi: number) => lo + rand() * (hi - lo);
  // The hold-out varies intensities and timings so nothing can be fitted to one draw.
  const jitter = (x: number) => (variant === "holdout" ? x * between(0.6, 1.5) : x);
  const hex16 = () => Array.from({ length: 16 }, () => Math.floor(rand() * 16).toString(16)).join("");

  const registry = new Map<string, KeyRegistryEntry>();
  const patternOfKey = new Map<string, BenignPattern>();
  const patternOfPrefix = new Map<string, BenignPattern>();
  const attacks: AttackLabel[] = [];
  const actors: Actor[] = [];
  const keysByPattern = new Map<BenignPattern, string[]>();
  const projectOf = new Map<string, string>();
  const homeOf = new Map<string, { network: NetworkPool; ip: string; agent: string }>();

  const newKey = (pattern: BenignPattern) => {
    const keyId = hex16();
    const projectId = `proj-${keyId.slice(0, 6)}`;
    registry.set(keyId, { status: "active", projectId });
    patternOfKey.set(keyId, pattern);
    projectOf.set(keyId, projectId);
    keysByPattern.set(pattern, [...(keysByPattern.get(pattern) ?? []), keyId]);
    return keyId;
  };
  const own = (pattern: BenignPattern, ip: string) => {
    const prefix = prefixOf(ip);
    if (!patternOfPrefix.has(prefix)) patternOfPrefix.set(prefix, pattern);
    return ip;
  };
  const benign = (pattern: BenignPattern, run: Actor["run"]) => actors.push({ pattern, run });

  // Global 503 outage on day 1 (Saturday) 14:00-14:25 UTC: clients retry (3 attempts, backoff),
  // then catch up a backlog (Google SRE book, "Handling Overload"; AWS Builders' Library on retries).
  const outageFrom = DAY + 14 * HOUR + Math.floor(jitter(0));
  const outageTo = outageFrom + Math.round(jitter(25));
  const inOutage = (m: number) => m >= outageFrom && m < outageTo;
  const afterOutage = (m: number) => m >= outageTo && m < outageTo + 10;
  /** Sends `n` requests of a key through the outage model: 503s are retried, later a backlog. */
  const send = (emit: Emit, m: number, n: number, ip: () => string, keyId: string, agent: string) => {
    // An owner who revoked a key has moved to its replacement.
    const revoked = registry.get(keyId)?.revokedAt;
    if (revoked !== undefined && start + m * 60_000 >= Date.parse(revoked)) return;
    const demand = afterOutage(m) ? Math.round(n * 1.6) : n;
    for (let i = 0; i < demand; i++) {
      if (inOutage(m)) {
        const address = ip();
        for (let attempt = 0; attempt < 3; attempt++) emit(m, address, keyId, 503, agent);
      } else emit(m, ip(), keyId, rand() < 0.01 ? pick([400, 404, 422]) : 200, agent);
    }
  };

  const scale = keyCount / 200;
  const count = (n: number) => Math.max(1, Math.round(n * scale));

  // 1. Steady servers: one or two fixed egress IPs (EC2/VM with an Elastic IP), human-driven shape.
  for (let i = 0; i < count(40); i++) {
    const keyId = newKey("static_server");
    const network = pick([
      NETWORKS.awsUsEast,
      NETWORKS.awsEuCentral,
      NETWORKS.gcpUsCentral,
      NETWORKS.hetzner,
      NETWORKS.ovh,
    ]);
    const ips = [own("static_server", addressIn(network, rand))];
    if (rand() < 0.4) ips.push(own("static_server", addressIn(network, rand)));
    const agent = pick(SERVER_AGENTS);
    const peak = between(2, 22);
    const offset = OFFSET_OF[network.country] ?? 0;
    homeOf.set(keyId, { network, ip: ips[0] as string, agent });
    // A few servers meet rate limits: 429 storms where each call is retried immediately 3-5 times.
    const storms =
      i < count(6) ? [Math.floor(between(60, minutes - 60)), Math.floor(between(60, minutes - 60))] : [];
    if (storms.length > 0) patternOfKey.set(keyId, "retry_storm");
    benign(storms.length > 0 ? "retry_storm" : "static_server", (m, emit) => {
      const n = poisson(rand, peak * diurnal(m, offset, 0.7));
      if (storms.some((s) => m >= s && m < s + 15)) {
        for (let r = 0; r < n; r++) {
          const ip = pick(ips);
          const retries = 3 + Math.floor(rand() * 3);
          for (let a = 0; a < retries; a++) emit(m, ip, keyId, 429, agent);
          emit(m, ip, keyId, 200, agent);
        }
        return;
      }
      send(emit, m, n, () => pick(ips), keyId, agent);
    });
  }

  // 2. Serverless egress: Lambda/Cloud Run without a NAT gateway get a new public IP per
  // execution environment, spread over the region's blocks (AWS ip-ranges.json).
  for (let i = 0; i < count(20); i++) {
    const keyId = newKey("serverless_egress");
    const network = pick([
      NETWORKS.awsUsEast,
      NETWORKS.awsEuWest,
      NETWORKS.gcpUsCentral,
      NETWORKS.gcpEuropeWest,
    ]);
    const agent = pick(SERVER_AGENTS);
    const peak = between(4, 35);
    const offset = OFFSET_OF[network.country] ?? 0;
    let envs = Array.from({ length: 6 }, () => own("serverless_egress", addressIn(network, rand)));
    homeOf.set(keyId, { network, ip: envs[0] as string, agent });
    benign("serverless_egress", (m, emit) => {
      // Execution environments are recycled within hours: a few new addresses every hour.
      if (m % 20 === 0)
        envs = [
          ...envs.slice(2),
          own("serverless_egress", addressIn(network, rand)),
          own("serverless_egress", addressIn(network, rand)),
        ];
      const n = poisson(rand, peak * diurnal(m, offset, 0.8));
      send(emit, m, n, () => pick(envs), keyId, agent);
    });
  }

  // 3. CI: GitHub-hosted runners (Azure, a fresh VM per job), pushes in working hours, matrix fan-out.
  for (let i = 0; i < count(15); i++) {
    const keyId = newKey("ci_runner");
    const offset = pick([-5, 1, 0, 5.5]);
    const runsPerHour = between(0.5, 2.5);
    const running: { until: number; ip: string; rate: number }[] = [];
    homeOf.set(keyId, {
      network: NETWORKS.azureUs,
      ip: addressIn(NETWORKS.azureUs, rand),
      agent: "node-fetch/1.0",
    });
    benign("ci_runner", (m, emit) => {
      const h = localHour(m, offset);
      const working = h >= 8 && h < 19 && !isWeekendDay(m, offset);
      if (rand() < (working ? runsPerHour : runsPerHour * 0.08) / HOUR) {
        const jobs = rand() < 0.3 ? 4 + Math.floor(rand() * 17) : 1;
        for (let j = 0; j < jobs; j++) {
          running.push({
            until: m + 2 + Math.floor(rand() * 5),
            ip: own("ci_runner", addressIn(NETWORKS.azureUs, rand)),
            rate: between(3, 15),
          });
        }
      }
      for (let j = running.length - 1; j >= 0; j--) {
        const job = running[j] as (typeof running)[number];
        if (m >= job.until) running.splice(j, 1);
        else send(emit, m, poisson(rand, job.rate), () => job.ip, keyId, "node-fetch/1.0");
      }
    });
  }

  // 4. Mobile/desktop fleets: a key shipped in an app; users behind carrier CGNAT and home ISPs
  // in several countries; addresses change as phones move between networks.
  const fleet = (pattern: BenignPattern, growth?: { from: number; to: number; factor: number }) => {
    const keyId = newKey(pattern);
    const markets = Array.from({ length: 2 + Math.floor(rand() * 5) }, () => pick(RESIDENTIAL));
    const peak = between(5, 40);
    const agent = pick(APP_AGENTS);
    homeOf.set(keyId, {
      network: markets[0] as NetworkPool,
      ip: addressIn(markets[0] as NetworkPool, rand),
      agent,
    });
    benign(pattern, (m, emit) => {
      let factor = 1;
      if (growth && m >= growth.from)
        factor = 1 + (growth.factor - 1) * Math.min(1, (m - growth.from) / (growth.to - growth.from));
      for (const market of markets) {
        const n = poisson(
          rand,
          (factor * peak * diurnal(m, OFFSET_OF[market.country] ?? 0, 1.1)) / markets.length,
        );
        send(emit, m, n, () => own(pattern, addressIn(market, rand)), keyId, agent);
      }
    });
  };
  for (let i = 0; i < count(15); i++) fleet("mobile_fleet");
  // Product launch: a fleet key whose users grow 5x over six hours on day 2 (organic, same markets).
  for (let i = 0; i < count(2); i++)
    fleet("product_launch", { from: 2 * DAY + 8 * HOUR, to: 2 * DAY + 14 * HOUR, factor: jitter(5) });

  // 5. Office NAT: developers and scripts behind one public address, working hours only.
  for (let i = 0; i < count(20); i++) {
    const keyId = newKey("office_nat");
    const network = pick([NETWORKS.comcast, NETWORKS.telekom, NETWORKS.bt, NETWORKS.orange, NETWORKS.ntt]);
    const ip = own("office_nat", addressIn(network, rand));
    const agent = pick(DEV_AGENTS);
    const offset = OFFSET_OF[network.country] ?? 0;
    const burstsPerHour = between(0.5, 4);
    let burst = { until: -1, rate: 0 };
    homeOf.set(keyId, { network, ip, agent });
    benign("office_nat", (m, emit) => {
      const h = localHour(m, offset);
      const working = h >= 9 && h < 18 && !isWeekendDay(m, offset);
      if (m >= burst.until && rand() < (working ? burstsPerHour : 0.05) / HOUR) {
        burst = { until: m + 1 + Math.floor(rand() * 3), rate: between(5, 40) };
      }
      const n = m < burst.until ? poisson(rand, burst.rate) : working ? poisson(rand, 0.3) : 0;
      send(emit, m, n, () => ip, keyId, agent);
    });
  }

  // 6. Hourly cron (a top-of-the-hour job, minute offset fixed per job), idle in between.
  for (let i = 0; i < count(15); i++) {
    const keyId = newKey("hourly_cron");
    const network = pick([
      NETWORKS.awsUsEast,
      NETWORKS.hetzner,
      NETWORKS.digitalOcean,
      NETWORKS.gcpEuropeWest,
    ]);
    const ip = own("hourly_cron", addressIn(network, rand));
    const at = pick([0, 0, 0, 5, 15, 30]);
    const size = between(30, 150);
    const agent = pick(SERVER_AGENTS);
    homeOf.set(keyId, { network, ip, agent });
    benign("hourly_cron", (m, emit) => {
      const mm = m % HOUR;
      if (mm === at) send(emit, m, poisson(rand, size * 0.7), () => ip, keyId, agent);
      else if (mm === at + 1) send(emit, m, poisson(rand, size * 0.3), () => ip, keyId, agent);
    });
  }

  // 7. Midnight batch: a nightly export at 00:00 UTC for 20-45 minutes at full speed.
  for (let i = 0; i < count(10); i++) {
    const keyId = newKey("midnight_batch");
    const network = pick([NETWORKS.awsUsEast2, NETWORKS.gcpUsCentral, NETWORKS.ovh]);
    const ip = own("midnight_batch", addressIn(network, rand));
    const length = 20 + Math.floor(rand() * 25);
    const rate = between(100, 300);
    const agent = pick(SERVER_AGENTS);
    homeOf.set(keyId, { network, ip, agent });
    benign("midnight_batch", (m, emit) => {
      const mm = m % DAY;
      if (mm < length) send(emit, m, poisson(rand, rate), () => ip, keyId, agent);
      else if (rand() < 0.02) send(emit, m, 1, () => ip, keyId, agent);
    });
  }

  // 8. Synthetic monitoring: one check a minute from each of 5-8 cloud locations.
  for (let i = 0; i < count(10); i++) {
    const keyId = newKey("synthetic_monitoring");
    const locations = [
      NETWORKS.awsUsEast,
      NETWORKS.awsEuCentral,
      NETWORKS.awsEuNorth,
      NETWORKS.gcpAsia,
      NETWORKS.gcpEuropeWest,
      NETWORKS.awsEuWest,
      NETWORKS.gcpUsCentral,
    ]
      .slice(0, 5 + Math.floor(rand() * 3))
      .map((network) => own("synthetic_monitoring", addressIn(network, rand)));
    homeOf.set(keyId, {
      network: NETWORKS.awsUsEast,
      ip: locations[0] as string,
      agent: "Datadog/Synthetics",
    });
    benign("synthetic_monitoring", (m, emit) => {
      for (const ip of locations) send(emit, m, 1, () => ip, keyId, "Datadog/Synthetics");
    });
  }

  // 9. Travellers: a developer's key from home, then (day 1) a flight and use on arrival ~11 h later.
  for (let i = 0; i < count(8); i++) {
    const keyId = newKey("traveller");
    const home = pick([NETWORKS.telekom, NETWORKS.comcast, NETWORKS.bt, NETWORKS.orange]);
    const away = pick(
      [NETWORKS.softbank, NETWORKS.optus, NETWORKS.tmobileUs, NETWORKS.vodafoneIt, NETWORKS.trueTh].filter(
        (n) => n.country !== home.country,
      ),
    );
    const homeIp = own("traveller", addressIn(home, rand));
    // Abroad: a hotel network and a roaming phone's few carrier addresses.
    const awayIps = Array.from({ length: 3 }, () => own("traveller", addressIn(away, rand)));
    const agent = pick(DEV_AGENTS);
    const departs = DAY + Math.floor(between(6, 14) * HOUR);
    const lands = departs + 11 * HOUR;
    homeOf.set(keyId, { network: home, ip: homeIp, agent });
    benign("traveller", (m, emit) => {
      if (m >= departs && m < lands) return;
      const network = m < departs ? home : away;
      const offset = OFFSET_OF[network.country] ?? 0;
      const h = localHour(m, offset);
      if (h < 8 || h > 22) return;
      const n = poisson(rand, 0.4);
      send(emit, m, n, () => (m < departs ? homeIp : pick(awayIps)), keyId, agent);
    });
  }

  // 10. Region expansion: a server key adds a second cloud region (same provider, new country).
  for (let i = 0; i < count(5); i++) {
    const keyId = newKey("region_expansion");
    const home = NETWORKS.awsUsEast;
    const region = pick([NETWORKS.awsEuCentral, NETWORKS.awsEuWest, NETWORKS.awsEuNorth]);
    const ip = own("region_expansion", addressIn(home, rand));
    const newIps = [
      own("region_expansion", addressIn(region, rand)),
      own("region_expansion", addressIn(region, rand)),
    ];
    const from = DAY + Math.floor(between(2, 20) * HOUR);
    const agent = pick(SERVER_AGENTS);
    const peak = between(3, 15);
    homeOf.set(keyId, { network: home, ip, agent });
    benign("region_expansion", (m, emit) => {
      send(emit, m, poisson(rand, peak * diurnal(m, -5)), () => ip, keyId, agent);
      if (m >= from)
        send(emit, m, poisson(rand, peak * 0.5 * diurnal(m, 1)), () => pick(newIps), keyId, agent);
    });
  }

  // 11. Barely used developer keys: a handful of calls a day from home.
  for (let i = 0; i < count(40); i++) {
    const keyId = newKey("dev_key");
    const network = pick([
      NETWORKS.comcast,
      NETWORKS.telekom,
      NETWORKS.bt,
      NETWORKS.free,
      NETWORKS.ntt,
      NETWORKS.jio,
      NETWORKS.windTre,
    ]);
    const ip = own("dev_key", addressIn(network, rand));
    const agent = pick(DEV_AGENTS);
    const offset = OFFSET_OF[network.country] ?? 0;
    const perDay = between(0, 30);
    homeOf.set(keyId, { network, ip, agent });
    benign("dev_key", (m, emit) => {
      const h = localHour(m, offset);
      if (h < 9 || h > 23) return;
      send(emit, m, poisson(rand, perDay / (14 * HOUR)), () => ip, keyId, agent);
    });
  }

  // 12. An integration platform (Zapier-like, on AWS) still polling 12 rotated keys every 10 minutes.
  {
    const ips = Array.from({ length: 3 }, () => own("stale_key_poller", addressIn(NETWORKS.awsUsEast, rand)));
    const stale = Array.from({ length: 12 }, (_, i) => {
      const keyId = hex16();
      // Half were revoked by their owners; half deleted with their projects (unknown now).
      if (i < 6)
        registry.set(keyId, {
          status: "revoked",
          projectId: `proj-${keyId.slice(0, 6)}`,
          revokedAt: new Date(start - 20 * DAY * 60_000).toISOString(),
        });
      patternOfKey.set(keyId, "stale_key_poller");
      return keyId;
    });
    const phase = Math.floor(rand() * 10);
    benign("stale_key_poller", (m, emit) => {
      if (m % 10 !== phase) return;
      for (const keyId of stale) emit(m, pick(ips), keyId, 401, "Zapier");
    });
  }

  // 13. Internet background radiation: scanners probing with no or garbage keys.
  benign("background_scanners", (m, emit) => {
    for (let i = poisson(rand, 1.5); i > 0; i--) {
      const ip = addressIn(
        pick([NETWORKS.digitalOcean, NETWORKS.ovh, NETWORKS.hetzner, NETWORKS.vultr, NETWORKS.gcore]),
        rand,
      );
      emit(
        m,
        ip,
        rand() < 0.7 ? undefined : hex16(),
        401,
        pick(["zgrab/0.x", "Mozilla/5.0 (compatible; CensysInspect/1.1)", "python-requests/2.25.1"]),
      );
    }
  });

  // ---- Attacks -------------------------------------------------------------------------------
  const take = (pattern: BenignPattern) => {
    const list = keysByPattern.get(pattern) ?? [];
    const keyId = list.splice(Math.floor(rand() * list.length), 1)[0];
    if (!keyId) throw new Error(`no ${pattern} key left to attack`);
    return keyId;
  };
  // Each attack's start, shifted once per attack in the hold-out (memoised: asked twice, the same answer).
  const starts = new Map<string, number>();
  const at = (day: number, hour: number) => {
    const id = `${day}|${hour}`;
    let minute = starts.get(id);
    if (minute === undefined) {
      minute = day * DAY + Math.floor(hour * HOUR + (variant === "holdout" ? between(-90, 90) : 0));
      starts.set(id, minute);
    }
    return minute;
  };
  const attack = (
    kind: AttackKind,
    keyIds: string[],
    fromMinute: number,
    toMinute: number,
    loud: boolean,
    run: (label: AttackLabel) => Actor["run"],
  ) => {
    const label: AttackLabel = {
      id: `${kind}`,
      kind,
      keyIds,
      prefixes: new Set(),
      keyless: keyIds.length === 0,
      fromMinute,
      toMinute,
      loud,
    };
    attacks.push(label);
    const go = run(label);
    actors.push({
      pattern: undefined,
      attack: label,
      run: (m, emit) => m >= fromMinute && m < toMinute && go(m, emit),
    });
  };
  const mark = (label: AttackLabel, ip: string) => {
    label.prefixes.add(prefixOf(ip));
    return ip;
  };

  // A1. Credential stuffing through ~300 residential-proxy /24s, 1-2 keys per /24 per 5 minutes.
  {
    const proxies = Array.from({ length: Math.round(jitter(300)) }, () => addressIn(pick(RESIDENTIAL), rand));
    const perMinute = jitter(48);
    attack("stuffing_residential_proxies", [], at(1, 3), at(1, 3) + 120, true, (label) => (m, emit) => {
      for (let i = poisson(rand, perMinute); i > 0; i--)
        emit(m, mark(label, pick(proxies)), hex16(), 401, pick(APP_AGENTS));
    });
  }
  // A2. Brute force of ~18,000 bad-checksum keys (no keyId logged) from one rented server.
  {
    const ip = addressIn(NETWORKS.digitalOcean, rand);
    const rate = jitter(100);
    attack(
      "bruteforce_bad_checksum",
      [],
      at(0, 20),
      at(0, 20) + Math.round(18_000 / rate),
      true,
      (label) => (m, emit) => {
        for (let i = poisson(rand, rate); i > 0; i--)
          emit(m, mark(label, ip), undefined, 401, "python-requests/2.31.0");
      },
    );
  }
  // A3. A scraper ramping a leaked server key from 1 to 250 requests a minute over 12 hours.
  {
    const keyId = take("static_server");
    const ip = addressIn(NETWORKS.hetzner, rand);
    const from = at(1, 6);
    const top = jitter(250);
    attack("scraper_ramp", [keyId], from, from + 12 * HOUR, false, (label) => (m, emit) => {
      const rate = top ** ((m - from) / (12 * HOUR));
      for (let i = poisson(rand, rate); i > 0; i--)
        emit(m, mark(label, ip), keyId, 200, "python-requests/2.31.0");
    });
  }
  // A4. Low and slow: 100 addresses in the owner's own country, a few calls an hour each, for a day.
  {
    const keyId = take("office_nat");
    const home = homeOf.get(keyId) as { network: NetworkPool };
    const sameCountry = RESIDENTIAL.filter((n) => n.country === home.network.country);
    const pool = sameCountry.length > 0 ? sameCountry : [home.network];
    const ips = Array.from({ length: 100 }, () => addressIn(pick(pool), rand));
    attack("low_and_slow", [keyId], at(1, 10), at(1, 10) + DAY, false, (label) => (m, emit) => {
      for (const ip of ips)
        if (rand() < jitter(3) / HOUR) emit(m, mark(label, ip), keyId, 200, pick(DEV_AGENTS));
    });
  }
  // A5. A leaked key used from a new cloud provider in the owner's own country at the owner's volume.
  {
    const keyId = take("office_nat");
    const home = homeOf.get(keyId) as { network: NetworkPool };
    const cloud =
      [NETWORKS.gcpUsCentral, NETWORKS.hetzner, NETWORKS.ovh, NETWORKS.awsEuCentral].find(
        (n) => n.country === home.network.country,
      ) ?? NETWORKS.gcpUsCentral;
    const ip = addressIn(cloud, rand);
    attack(
      "new_cloud_same_country",
      [keyId],
      at(1, 12),
      at(1, 12) + 12 * HOUR,
      false,
      (label) => (m, emit) => {
        for (let i = poisson(rand, 1.2); i > 0; i--)
          emit(m, mark(label, ip), keyId, 200, "Go-http-client/1.1");
      },
    );
  }
  // A6. A barely used developer key, leaked right after it was set up: the attacker's use starts
  // in the key's first hours, after the owner's first calls.
  {
    const keyId = take("dev_key");
    const home = homeOf.get(keyId) as { network: NetworkPool; ip: string; agent: string };
    const ip = addressIn(pick([NETWORKS.ovh, NETWORKS.datacamp, NETWORKS.digitalOceanSg]), rand);
    // Never before the window starts: the owner's set-up calls must be in the logs.
    const setup = Math.max(0, at(0, 1));
    benign("dev_key", (m, emit) => {
      if (m >= setup && m < setup + 3) send(emit, m, 2, () => home.ip, keyId, home.agent);
    });
    const from = setup + 60 + Math.floor(rand() * 120);
    attack("leaked_dev_key_in_learning", [keyId], from, from + 2 * DAY, false, (label) => (m, emit) => {
      for (let i = poisson(rand, jitter(2)); i > 0; i--)
        emit(m, mark(label, ip), keyId, 200, "python-requests/2.28.1");
    });
  }
  // A7. Rate abuse: a serverless key hammered at ~25x its peak from rented servers.
  {
    const keyId = take("serverless_egress");
    const ips = Array.from({ length: 4 }, () => addressIn(NETWORKS.vultr, rand));
    attack("rate_abuse", [keyId], at(2, 15), at(2, 15) + 40, true, (label) => (m, emit) => {
      for (let i = poisson(rand, jitter(600)); i > 0; i--)
        emit(m, mark(label, pick(ips)), keyId, 200, "Go-http-client/1.1");
    });
  }
  // A8. A server key used from a foreign hosting network at a moderate rate.
  {
    const keyId = take("static_server");
    const ip = addressIn(pick([NETWORKS.gcore, NETWORKS.digitalOceanSg, NETWORKS.datacamp]), rand);
    attack("foreign_hosting_use", [keyId], at(0, 18), at(0, 18) + 8 * HOUR, false, (label) => (m, emit) => {
      for (let i = poisson(rand, jitter(3)); i > 0; i--) emit(m, mark(label, ip), keyId, 200, "curl/7.88.1");
    });
  }
  // A9. Use after a leak: the attacker's network first appears 30 minutes before keywatch
  // quarantines the key (detection lag), and keeps going; refused after the quarantine.
  {
    const keyId = take("static_server");
    const compromisedAt = at(1, 9);
    (registry.get(keyId) as KeyRegistryEntry).status = "compromised";
    Object.assign(registry.get(keyId) as KeyRegistryEntry, {
      compromisedAt: new Date(start + compromisedAt * 60_000).toISOString(),
      incidentId: `inc-${keyId.slice(0, 8)}`,
    });
    const ips = [addressIn(NETWORKS.tor, rand), addressIn(NETWORKS.tor, rand)];
    attack(
      "use_after_compromise",
      [keyId],
      compromisedAt - 30,
      compromisedAt + 3 * HOUR,
      true,
      (label) => (m, emit) => {
        for (let i = poisson(rand, 6); i > 0; i--)
          emit(m, mark(label, pick(ips)), keyId, m >= compromisedAt ? 403 : 200, "curl/8.1.2");
      },
    );
  }
  // A10. A key its owner revoked on day 0, tried from a network the owner never used.
  {
    const keyId = take("dev_key");
    const entry = registry.get(keyId) as KeyRegistryEntry;
    entry.status = "revoked";
    entry.revokedAt = new Date(start + 12 * HOUR * 60_000).toISOString();
    const ip = addressIn(NETWORKS.digitalOceanSg, rand);
    attack("revoked_key_new_network", [keyId], at(2, 2), at(2, 2) + 2 * HOUR, false, (label) => (m, emit) => {
      for (let i = poisson(rand, 2); i > 0; i--)
        emit(m, mark(label, ip), keyId, 401, "python-requests/2.31.0");
    });
  }
  // A11. Stuffing from one hosting provider: 40 droplets, many distinct keys each window.
  {
    const ips = Array.from({ length: 40 }, () => addressIn(NETWORKS.digitalOcean, rand));
    attack("asn_stuffing", [], at(2, 9), at(2, 9) + HOUR, true, (label) => (m, emit) => {
      for (let i = poisson(rand, jitter(20)); i > 0; i--)
        emit(m, mark(label, pick(ips)), hex16(), 401, "Go-http-client/1.1");
    });
  }
  // A12. A leaked key used at once from a botnet: ~80 /24s in 15 countries.
  {
    const keyId = take("office_nat");
    const ips = Array.from({ length: Math.round(jitter(80)) }, () => addressIn(pick(RESIDENTIAL), rand));
    attack("botnet_fanout", [keyId], at(1, 20), at(1, 20) + HOUR, true, (label) => (m, emit) => {
      for (const ip of ips)
        if (rand() < 0.5) emit(m, mark(label, ip), keyId, 200, "Mozilla/5.0 (Windows NT 10.0; Win64; x64)");
    });
  }
  // A13. Impossible travel: the key used from another continent minutes after its owner.
  {
    const keyId = take("dev_key");
    const home = homeOf.get(keyId) as { network: NetworkPool; ip: string; agent: string };
    const far =
      [NETWORKS.vivo, NETWORKS.optus, NETWORKS.trueTh].find((n) => n.country !== home.network.country) ??
      NETWORKS.vivo;
    const ip = addressIn(far, rand);
    const from = at(2, 11);
    attack("impossible_travel", [keyId], from, from + 120, false, (label) => (m, emit) => {
      for (let i = poisson(rand, 1.5); i > 0; i--)
        emit(m, mark(label, ip), keyId, 200, "python-requests/2.31.0");
    });
    // The owner is active just before.
    benign("dev_key", (m, emit) => {
      if (m >= from - 30 && m < from) send(emit, m, 1, () => home.ip, keyId, home.agent);
    });
  }

  let requestSeq = 0;
  return {
    seed,
    variant,
    start,
    minutes,
    attacks,
    patternOfKey,
    patternOfPrefix,
    registry,
    minuteLines(minute) {
      const lines: { t: number; line: string }[] = [];
      const base = start + minute * 60_000;
      const emit: Emit = (m, ip, keyId, status, agent) => {
        const t = base + Math.floor(rand() * 60_000);
        const key = keyId ?? "-";
        const project = keyId ? (projectOf.get(keyId) ?? "-") : "-";
        const country = countryOf(ip);
        lines.push({
          t,
          line: `{"userAgent":"${agent}","path":"/v1/items","method":"GET","requestId":"r${(requestSeq++).toString(36)}","time":"${t}","ip":"${ip}","status":"${status}","keyId":"${key}","projectId":"${project}","country":"${country}"}`,
        });
        void m;
      };
      for (const actor of actors) actor.run(minute, emit);
      lines.sort((a, b) => a.t - b.t);
      return lines.map((l) => l.line);
    },
  };
}

const COUNTRY_OF_STEM = new Map<string, string>();
for (const network of Object.values(NETWORKS))
  for (const stem of network.stems) COUNTRY_OF_STEM.set(stem, network.country);

/** The edge's viewer country (CloudFront-Viewer-Country) for an address of the catalogue. */
function countryOf(ip: string): string {
  const second = ip.indexOf(".", ip.indexOf(".") + 1);
  return COUNTRY_OF_STEM.get(ip.slice(0, second)) ?? "-";
}
