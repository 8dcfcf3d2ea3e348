/**
 * Where real API clients sit on the Internet, as /16 stems of address space the named operator
 * announces (one address per stem spot-checked against the RouteViews/RIR data in
 * @ip-location-db/asn, Dec 2026; some /24s inside a stem belong to other networks, as in life).
 * The traffic model only knows this catalogue; it imports nothing from the detectors.
 */
export type NetworkKind = "cloud" | "hosting" | "residential" | "mobile" | "office" | "anonymizer";

export interface NetworkPool {
  name: string;
  kind: NetworkKind;
  /** ISO country the block is used in. */
  country: string;
  /** `a.b` stems: addresses are drawn as `a.b.c.d` inside them. */
  stems: string[];
}

const pool = (name: string, kind: NetworkKind, country: string, stems: string[]): NetworkPool => ({
  name,
  kind,
  country,
  stems,
});

export const NETWORKS = {
  // Cloud egress (AWS ip-ranges.json regions; Lambda/Fargate/EC2 egress come from these).
  awsUsEast: pool("aws-us-east-1", "cloud", "US", ["3.80", "23.20", "44.192", "100.24", "54.160"]),
  awsEuCentral: pool("aws-eu-central-1", "cloud", "DE", ["3.120", "18.184"]),
  awsEuNorth: pool("aws-eu-north-1", "cloud", "SE", ["13.48"]),
  awsUsEast2: pool("aws-us-east-2", "cloud", "US", ["52.14"]),
  awsEuWest: pool("aws-eu-west-1", "cloud", "IE", ["99.80"]),
  gcpUsCentral: pool("gcp-us-central1", "cloud", "US", ["35.184", "34.66"]),
  gcpEuropeWest: pool("gcp-europe-west1", "cloud", "BE", ["34.140"]),
  gcpAsia: pool("gcp-asia-northeast3", "cloud", "KR", ["34.64"]),
  // GitHub-hosted Actions runners run on Azure (docs.github.com, "About GitHub-hosted runners").
  azureUs: pool("azure-us (GitHub Actions)", "cloud", "US", ["20.42", "20.102", "40.76", "52.160", "4.175"]),
  // Rentable servers: where scrapers and stuffers rent capacity by the hour.
  digitalOcean: pool("digitalocean", "hosting", "US", ["159.65", "167.99", "138.68", "178.62", "46.101"]),
  digitalOceanSg: pool("digitalocean-sgp", "hosting", "SG", ["139.59"]),
  hetzner: pool("hetzner", "hosting", "DE", ["88.198", "95.216", "5.9", "176.9"]),
  ovh: pool("ovh", "hosting", "FR", ["51.38", "54.36"]),
  vultr: pool("vultr", "hosting", "US", ["45.76"]),
  scaleway: pool("scaleway", "hosting", "FR", ["62.210"]),
  ionos: pool("ionos", "hosting", "DE", ["217.160"]),
  gcore: pool("gcore", "hosting", "LU", ["92.223"]),
  datacamp: pool("datacamp (CDN77)", "hosting", "GB", ["212.102", "89.187"]),
  tor: pool("tor exit (Stiftung Erneuerbare Freiheit)", "anonymizer", "DE", ["185.220"]),
  // Consumer access networks (residential and carrier CGNAT, RFC 6598 behind them).
  comcast: pool("comcast", "residential", "US", ["73.12", "24.5", "98.33"]),
  tmobileUs: pool("t-mobile-us", "mobile", "US", ["172.56", "172.58"]),
  telekom: pool("deutsche-telekom", "residential", "DE", ["79.200", "84.150"]),
  teleColumbus: pool("tele-columbus", "residential", "DE", ["37.120"]),
  bt: pool("bt", "residential", "GB", ["86.140"]),
  virgin: pool("virgin-media", "residential", "GB", ["81.96"]),
  orange: pool("orange", "residential", "FR", ["90.10", "92.140"]),
  free: pool("free", "residential", "FR", ["82.64", "78.192"]),
  jio: pool("reliance-jio", "mobile", "IN", ["49.36"]),
  airtel: pool("airtel", "mobile", "IN", ["106.200"]),
  vodafoneIt: pool("vodafone-it", "mobile", "IT", ["2.36"]),
  windTre: pool("wind-tre", "residential", "IT", ["151.20"]),
  vivo: pool("telefonica-brasil", "residential", "BR", ["187.10"]),
  optus: pool("optus", "residential", "AU", ["110.20"]),
  softbank: pool("softbank", "mobile", "JP", ["126.10"]),
  ntt: pool("ntt", "residential", "JP", ["153.200"]),
  trueTh: pool("true-internet", "residential", "TH", ["58.10"]),
} as const satisfies Record<string, NetworkPool>;

export type NetworkName = keyof typeof NETWORKS;

export const RESIDENTIAL: NetworkPool[] = Object.values(NETWORKS).filter(
  (n) => n.kind === "residential" || n.kind === "mobile",
);

/** An address inside `pool`; `rand` decides which /16 stem, /24 and host. */
export function addressIn(network: NetworkPool, rand: () => number): string {
  const stem = network.stems[Math.floor(rand() * network.stems.length)] as string;
  return `${stem}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 253)}`;
}

export function prefixOf(address: string): string {
  return `${address.slice(0, address.lastIndexOf("."))}.0/24`;
}
