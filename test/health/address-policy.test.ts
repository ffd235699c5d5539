import { AddressPolicy, type AddressPolicySettings } from '../../src/health/address-policy';

const defaults: AddressPolicySettings = { allowCidrs: [], denyCidrs: [] };

/** The refusal sentence for the host of `url`, as the WHATWG URL parser normalizes it (what a check connects to). */
function refusalOf(url: string, settings: AddressPolicySettings = defaults): string | undefined {
  const refusal = new AddressPolicy(settings).hostRefusal(new URL(url).hostname);
  return refusal && `${refusal.address} ${refusal.reason}`;
}

describe('AddressPolicy', () => {
  it.each([
    // 169.254.169.254: dotted, decimal, hex, octal, mixed, trailing dot, with user info, IPv6 spellings
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a cloud metadata address (AWS, Azure'],
    ['http://2852039166/', '169.254.169.254 is a cloud metadata address'],
    ['http://0xa9fea9fe/', '169.254.169.254 is a cloud metadata address'],
    ['http://0xa9.254.169.254/', '169.254.169.254 is a cloud metadata address'],
    ['http://0251.0376.0251.0376/', '169.254.169.254 is a cloud metadata address'],
    ['http://169.254.43518/', '169.254.169.254 is a cloud metadata address'],
    ['http://169.254.169.254./', '169.254.169.254 is a cloud metadata address'],
    ['http://127.0.0.1@169.254.169.254/', '169.254.169.254 is a cloud metadata address'],
    ['http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe (IPv4-mapped 169.254.169.254) is a cloud metadata address'],
    ['http://[::ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe (IPv4-mapped 169.254.169.254) is a cloud metadata address'],
    ['http://[0:0:0:0:0:ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe (IPv4-mapped 169.254.169.254) is a cloud metadata address'],
    ['http://[::a9fe:a9fe]/', '::a9fe:a9fe (IPv4-compatible 169.254.169.254) is a cloud metadata address'],
    ['http://[::169.254.169.254]/', '::a9fe:a9fe (IPv4-compatible 169.254.169.254) is a cloud metadata address'],
    ['http://[::ffff:0:a9fe:a9fe]/', '::ffff:0:a9fe:a9fe (IPv4-translated 169.254.169.254) is a cloud metadata address'],
    ['http://[64:ff9b::a9fe:a9fe]/', '64:ff9b::a9fe:a9fe (NAT64 169.254.169.254) is a cloud metadata address'],
    ['http://[64:ff9b::169.254.169.254]/', '64:ff9b::a9fe:a9fe (NAT64 169.254.169.254) is a cloud metadata address'],
    // other metadata services
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254 is a cloud metadata address (AWS instance metadata over IPv6)'],
    ['http://[fd00:0ec2:0000:0000:0000:0000:0000:0254]/', 'fd00:ec2::254 is a cloud metadata address (AWS instance metadata over IPv6)'],
    ['http://[fd20:ce::254]/', 'fd20:ce::254 is a cloud metadata address (Google Cloud metadata server over IPv6)'],
    ['http://100.100.100.200/', '100.100.100.200 is a cloud metadata address (Alibaba Cloud ECS instance metadata)'],
    ['http://[::ffff:6464:64c8]/', '::ffff:6464:64c8 (IPv4-mapped 100.100.100.200) is a cloud metadata address (Alibaba'],
    ['http://168.63.129.16/', '168.63.129.16 is a cloud metadata address (Azure WireServer'],
    ['http://2822734096/', '168.63.129.16 is a cloud metadata address (Azure WireServer'],
    ['http://169.254.170.2/v2/credentials', '169.254.170.2 is a cloud metadata address (AWS ECS task metadata and credentials)'],
    // link-local
    ['http://169.254.1.1/', '169.254.1.1 is a link-local address (cloud metadata services live there)'],
    ['http://169.254.255.255/', '169.254.255.255 is a link-local address'],
    ['http://[fe80::1]/', 'fe80::1 is a link-local address'],
    ['http://[febf:ffff::1]/', 'febf:ffff::1 is a link-local address'],
    ['http://[::ffff:169.254.1.1]/', '::ffff:a9fe:101 (IPv4-mapped 169.254.1.1) is a link-local address'],
    // unspecified
    ['http://0.0.0.0/', '0.0.0.0 is an unspecified address (it reaches this machine)'],
    ['http://0/', '0.0.0.0 is an unspecified address'],
    ['http://0.1.2.3/', '0.1.2.3 is an unspecified address'],
    ['http://[::]/', ':: is an unspecified address'],
    ['http://[0:0:0:0:0:0:0:0]/', ':: is an unspecified address'],
    ['http://[::ffff:0.0.0.0]/', '::ffff:0:0 (IPv4-mapped 0.0.0.0) is an unspecified address'],
    // multicast and broadcast
    ['http://224.0.0.1/', '224.0.0.1 is a multicast address'],
    ['http://239.255.255.250/', '239.255.255.250 is a multicast address'],
    ['http://[ff02::1]/', 'ff02::1 is a multicast address'],
    ['http://[::ffff:224.0.0.251]/', '::ffff:e000:fb (IPv4-mapped 224.0.0.251) is a multicast address'],
    ['http://255.255.255.255/', '255.255.255.255 is the broadcast address'],
    ['http://4294967295/', '255.255.255.255 is the broadcast address'],
    ['http://[::ffff:255.255.255.255]/', '::ffff:ffff:ffff (IPv4-mapped 255.255.255.255) is the broadcast address'],
    // metadata host names, before any lookup
    ['http://metadata.google.internal/computeMetadata/v1/', 'metadata.google.internal is a cloud metadata host name (Google Cloud)'],
    ['http://METADATA.Google.Internal./', 'metadata.google.internal. is a cloud metadata host name (Google Cloud)'],
    ['http://metadata.goog/', 'metadata.goog is a cloud metadata host name (Google Cloud)'],
    ['http://metadata/', 'metadata is a cloud metadata host name (Google Cloud)'],
    ['http://instance-data.ec2.internal/', 'instance-data.ec2.internal is a cloud metadata host name (AWS EC2)'],
    ['http://x.metadata.tencentyun.com/', 'x.metadata.tencentyun.com is a cloud metadata host name (Tencent Cloud)'],
  ])('always refuses %s', (url, expected) => {
    expect(refusalOf(url)).toContain(expected);
    // No setting opens them: not an allow list naming them, not one admitting everything.
    expect(refusalOf(url, { allowCidrs: ['0.0.0.0/0', '::/0', '169.254.0.0/16', 'fd00::/8'], denyCidrs: [] })).toContain(expected);
  });

  it.each([
    'http://127.0.0.1:8080/health',
    'http://127.1/',
    'http://2130706433/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://10.1.2.3/',
    'http://172.16.0.1/',
    'http://192.168.1.10/',
    'http://[fd12:3456::1]/',
    'http://100.100.100.100/',
    'http://93.184.216.34/',
    'http://[2001:db8::1]/',
    'https://health.example.com/status',
    'http://metadata-service.example.com/',
  ])('allows %s by default', (url) => {
    expect(refusalOf(url)).toBeUndefined();
  });

  it('refuses what HEALTH_DENY_CIDRS lists, in IPv4 and IPv6 spellings', () => {
    const settings = { allowCidrs: [], denyCidrs: ['127.0.0.0/8', '10.0.0.0/8', 'fd00::/8'] };
    expect(refusalOf('http://127.0.0.1/', settings)).toBe('127.0.0.1 is inside 127.0.0.0/8, which HEALTH_DENY_CIDRS refuses');
    expect(refusalOf('http://2130706433/', settings)).toBe('127.0.0.1 is inside 127.0.0.0/8, which HEALTH_DENY_CIDRS refuses');
    expect(refusalOf('http://0x7f.1/', settings)).toBe('127.0.0.1 is inside 127.0.0.0/8, which HEALTH_DENY_CIDRS refuses');
    expect(refusalOf('http://[::ffff:10.9.8.7]/', settings)).toBe(
      '::ffff:a09:807 (IPv4-mapped 10.9.8.7) is inside 10.0.0.0/8, which HEALTH_DENY_CIDRS refuses',
    );
    expect(refusalOf('http://[64:ff9b::a09:807]/', settings)).toContain('is inside 10.0.0.0/8');
    expect(refusalOf('http://[fd12::1]/', settings)).toBe('fd12::1 is inside fd00::/8, which HEALTH_DENY_CIDRS refuses');
    expect(refusalOf('http://192.168.1.1/', settings)).toBeUndefined();
    expect(refusalOf('http://[::1]/', settings)).toBeUndefined();
  });

  it('admits only the blocks of HEALTH_ALLOW_CIDRS when it is set', () => {
    const settings = { allowCidrs: ['10.0.0.0/8', '2001:db8::/32'], denyCidrs: ['10.66.0.0/16'] };
    expect(refusalOf('http://10.1.2.3/', settings)).toBeUndefined();
    expect(refusalOf('http://[::ffff:10.1.2.3]/', settings)).toBeUndefined();
    expect(refusalOf('http://[2001:db8::5]/', settings)).toBeUndefined();
    expect(refusalOf('http://127.0.0.1/', settings)).toBe('127.0.0.1 is outside every block of HEALTH_ALLOW_CIDRS');
    expect(refusalOf('http://[::1]/', settings)).toBe('::1 is outside every block of HEALTH_ALLOW_CIDRS');
    // The deny list wins over the allow list.
    expect(refusalOf('http://10.66.0.1/', settings)).toBe('10.66.0.1 is inside 10.66.0.0/16, which HEALTH_DENY_CIDRS refuses');
  });

  it('matches IPv6 blocks against IPv6 addresses only, and judges IPv4 spellings by their IPv4 address', () => {
    // node's BlockList alone would let ::/0 admit every IPv4 address through its mapped form.
    const settings = { allowCidrs: ['10.0.0.0/8', '::/0'], denyCidrs: [] };
    expect(refusalOf('http://[2001:db8::1]/', settings)).toBeUndefined();
    expect(refusalOf('http://127.0.0.1/', settings)).toBe('127.0.0.1 is outside every block of HEALTH_ALLOW_CIDRS');
    expect(refusalOf('http://[::ffff:127.0.0.1]/', settings)).toBe(
      '::ffff:7f00:1 (IPv4-mapped 127.0.0.1) is outside every block of HEALTH_ALLOW_CIDRS',
    );
    expect(new AddressPolicy({ allowCidrs: [], denyCidrs: ['::/0'] }).addressRefusal('192.168.1.1')).toBeUndefined();
  });

  it('judges resolved addresses, with or without an interface zone', () => {
    const policy = new AddressPolicy(defaults);
    expect(policy.addressRefusal('fe80::1%eth0')).toEqual({ address: 'fe80::1', reason: 'is a link-local address (cloud metadata services live there)' });
    expect(policy.addressRefusal('::ffff:169.254.169.254')?.address).toBe('::ffff:169.254.169.254 (IPv4-mapped 169.254.169.254)');
    expect(policy.addressRefusal('127.0.0.1')).toBeUndefined();
  });
});
