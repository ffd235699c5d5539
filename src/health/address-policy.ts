/**
 * Which hosts and addresses an HTTP health check may contact. Whoever registers a target chooses its URL, so the
 * worker must not become a way to reach what only it can reach: cloud metadata services (instance credentials),
 * link-local, unspecified, multicast and broadcast addresses are refused whatever the settings. Then
 * HEALTH_DENY_CIDRS refuses, and a non-empty HEALTH_ALLOW_CIDRS admits only its blocks. Loopback and private ranges
 * stay allowed by default (health endpoints are often internal); the deny list is how an operator closes them.
 *
 * An IPv6 address that embeds an IPv4 address (IPv4-mapped, -compatible, -translated, NAT64) is refused when either
 * of the two is, so `::ffff:169.254.169.254` is refused like `169.254.169.254`; the allow list must admit the IPv4
 * address, where the packet ends up.
 */
import { BlockList, isIP } from 'node:net';
import type { Config } from '../config';

export type AddressPolicySettings = Pick<Config['health'], 'allowCidrs' | 'denyCidrs'>;

/** Why a host or address is refused: `${address} ${reason}` reads as a sentence. */
export interface AddressRefusal {
  /** The host as checked; an IPv6 address embedding an IPv4 one names it: `::ffff:a9fe:a9fe (IPv4-mapped 169.254.169.254)`. */
  readonly address: string;
  /** Starts with "is", e.g. `is a link-local address (cloud metadata services live there)`. */
  readonly reason: string;
}

/**
 * Addresses and CIDR blocks (`10.0.0.0/8`, or one address). An address matches only blocks of its own family:
 * node's BlockList alone would let an IPv6 block such as `::/0` match every IPv4 address through its mapped form,
 * so HEALTH_ALLOW_CIDRS=`10.0.0.0/8,::/0` would admit all of IPv4.
 */
class AddressBlocks {
  readonly #ipv4 = new BlockList();
  readonly #ipv6 = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/');
      const family = isIP(address);
      if (family === 4) this.#ipv4.addSubnet(address, Number(prefix ?? 32), 'ipv4');
      else if (family === 6) this.#ipv6.addSubnet(address, Number(prefix ?? 128), 'ipv6');
      else throw new Error(`not an IP address or CIDR block: ${entry}`);
    }
  }

  has(address: string): boolean {
    const family = isIP(address);
    return family === 4 ? this.#ipv4.check(address, 'ipv4') : family === 6 && this.#ipv6.check(address, 'ipv6');
  }
}

/** Cloud metadata services: they hand out instance credentials to whoever asks from inside the machine. */
const METADATA_ADDRESSES: readonly { address: string; service: string }[] = [
  { address: '169.254.169.254', service: 'AWS, Azure, Google Cloud, Oracle, OpenStack, DigitalOcean' },
  { address: 'fd00:ec2::254', service: 'AWS instance metadata over IPv6' },
  { address: '169.254.170.2', service: 'AWS ECS task metadata and credentials' },
  { address: '169.254.170.23', service: 'AWS EKS Pod Identity Agent' },
  { address: 'fd00:ec2::23', service: 'AWS EKS Pod Identity Agent over IPv6' },
  { address: 'fd20:ce::254', service: 'Google Cloud metadata server over IPv6' },
  { address: '168.63.129.16', service: 'Azure WireServer, which serves VM extensions and certificates' },
  { address: '100.100.100.200', service: 'Alibaba Cloud ECS instance metadata' },
  { address: '169.254.0.23', service: 'Tencent Cloud CVM instance metadata' },
  { address: '169.254.42.42', service: 'Scaleway instance metadata' },
  { address: 'fd00:42::42', service: 'Scaleway instance metadata over IPv6' },
  { address: '192.0.0.192', service: 'Oracle Cloud Classic instance metadata' },
];

/** Host names of metadata services, refused before any lookup (and their subdomains). */
const METADATA_HOST_NAMES: readonly { name: string; service: string }[] = [
  { name: 'metadata.google.internal', service: 'Google Cloud' },
  { name: 'metadata.goog', service: 'Google Cloud' },
  // GCE resolves the bare name through its DNS search domain.
  { name: 'metadata', service: 'Google Cloud' },
  { name: 'instance-data', service: 'AWS EC2' },
  { name: 'instance-data.ec2.internal', service: 'AWS EC2' },
  { name: 'metadata.tencentyun.com', service: 'Tencent Cloud' },
  { name: 'api.metadata.cloud.ibm.com', service: 'IBM Cloud' },
  // Equinix Metal serves metadata from a public address, so only the name gives it away.
  { name: 'metadata.platformequinix.com', service: 'Equinix Metal' },
  { name: 'metadata.packet.net', service: 'Equinix Metal' },
];

/** Refused whatever the settings, most specific first (the first match names the reason). */
const ALWAYS_REFUSED: readonly { blocks: AddressBlocks; what: string }[] = [
  ...METADATA_ADDRESSES.map(({ address, service }) => ({ blocks: new AddressBlocks([address]), what: `a cloud metadata address (${service})` })),
  { blocks: new AddressBlocks(['169.254.0.0/16', 'fe80::/10']), what: 'a link-local address (cloud metadata services live there)' },
  // Connecting to 0.0.0.0 or :: reaches this machine itself on Linux.
  { blocks: new AddressBlocks(['0.0.0.0/8', '::/128']), what: 'an unspecified address (it reaches this machine)' },
  { blocks: new AddressBlocks(['224.0.0.0/4', 'ff00::/8']), what: 'a multicast address' },
  { blocks: new AddressBlocks(['255.255.255.255/32']), what: 'the broadcast address' },
];

/** IPv6 prefixes (first six 16-bit groups) whose last 32 bits are the IPv4 address the packet ends up at. */
const IPV4_EMBEDDING_PREFIXES: readonly { groups: readonly number[]; form: string }[] = [
  { groups: [0, 0, 0, 0, 0, 0xffff], form: 'IPv4-mapped' }, // ::ffff:0:0/96, RFC 4291
  { groups: [0, 0, 0, 0, 0xffff, 0], form: 'IPv4-translated' }, // ::ffff:0:0:0/96, RFC 2765
  { groups: [0x64, 0xff9b, 0, 0, 0, 0], form: 'NAT64' }, // 64:ff9b::/96, RFC 6052
  { groups: [0, 0, 0, 0, 0, 0], form: 'IPv4-compatible' }, // ::/96, RFC 4291 (deprecated); not :: and ::1
];

/** The eight 16-bit groups of an IPv6 address. */
function ipv6Groups(address: string): number[] {
  // The WHATWG URL serializer writes IPv6 as hex groups only (no dotted IPv4 tail), which keeps this parse short.
  const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The IPv4 address an IPv6 address stands for, if it embeds one. */
function embeddedIpv4(address: string): { ipv4: string; form: string } | undefined {
  if (isIP(address) !== 6) return undefined;
  const groups = ipv6Groups(address);
  const [high = 0, low = 0] = groups.slice(6);
  // :: and ::1 are the unspecified and loopback addresses, not IPv4-compatible spellings of 0.0.0.0 and 0.0.0.1.
  if (high === 0 && low <= 1 && groups.slice(0, 6).every((group) => group === 0)) return undefined;
  const prefix = IPV4_EMBEDDING_PREFIXES.find(({ groups: expected }) => expected.every((group, index) => groups[index] === group));
  return prefix && { ipv4: [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.'), form: prefix.form };
}

/** `metadata.google.internal.` and `x.metadata.goog` are metadata names too. */
function metadataHostRefusal(hostName: string): AddressRefusal | undefined {
  const name = hostName.toLowerCase().replace(/\.+$/, '');
  const match = METADATA_HOST_NAMES.find((entry) => name === entry.name || name.endsWith(`.${entry.name}`));
  return match && { address: hostName, reason: `is a cloud metadata host name (${match.service})` };
}

export class AddressPolicy {
  readonly #denied: readonly { cidr: string; blocks: AddressBlocks }[];
  /** Undefined: every address not refused otherwise is allowed. */
  readonly #allowed: AddressBlocks | undefined;

  constructor(settings: AddressPolicySettings) {
    this.#denied = settings.denyCidrs.map((cidr) => ({ cidr, blocks: new AddressBlocks([cidr]) }));
    this.#allowed = settings.allowCidrs.length > 0 ? new AddressBlocks(settings.allowCidrs) : undefined;
  }

  /** Why an IP address may not be contacted; undefined when it may. */
  addressRefusal(address: string): AddressRefusal | undefined {
    // A zone (`fe80::1%eth0`) says which interface, not which address.
    const bare = address.split('%')[0] ?? address;
    const embedded = embeddedIpv4(bare);
    const candidates = embedded ? [bare, embedded.ipv4] : [bare];
    const matches = (blocks: AddressBlocks): boolean => candidates.some((candidate) => blocks.has(candidate));
    const subject = embedded ? `${bare} (${embedded.form} ${embedded.ipv4})` : bare;

    const fixed = ALWAYS_REFUSED.find(({ blocks }) => matches(blocks));
    if (fixed) return { address: subject, reason: `is ${fixed.what}` };
    const denied = this.#denied.find(({ blocks }) => matches(blocks));
    if (denied) return { address: subject, reason: `is inside ${denied.cidr}, which HEALTH_DENY_CIDRS refuses` };
    // The allow list judges where the packet ends up: `::ffff:127.0.0.1` is 127.0.0.1 even when `::/0` is allowed.
    if (this.#allowed && !this.#allowed.has(embedded?.ipv4 ?? bare)) return { address: subject, reason: 'is outside every block of HEALTH_ALLOW_CIDRS' };
    return undefined;
  }

  /**
   * Why a URL's host (`URL.hostname`: IPv4 already normalized from forms like `2852039166` or `0xa9.254.169.254`,
   * IPv6 in brackets) may not be contacted, judged before any lookup: IP literals by address, names only when they
   * are metadata names. Whatever a name resolves to is judged by addressRefusal when it is resolved.
   */
  hostRefusal(urlHostname: string): AddressRefusal | undefined {
    const host = urlHostname.startsWith('[') && urlHostname.endsWith(']') ? urlHostname.slice(1, -1) : urlHostname;
    return isIP(host) === 0 ? metadataHostRefusal(host) : this.addressRefusal(host);
  }
}
