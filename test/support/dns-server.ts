/**
 * A tiny DNS server on 127.0.0.1 (UDP) for tests: it answers every A query with the IPv4 addresses the test
 * chooses for that query, and other query types with no answer. Enough for a c-ares Resolver (dns.promises.Resolver
 * with setServers), hand-encoded after RFC 1035 section 4.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';

const TYPE_A = 1;
const CLASS_IN = 1;
const HEADER_BYTES = 12;
const FLAGS_RESPONSE_NO_ERROR = 0x8180; // QR, RD and RA set; RCODE 0
const POINTER_TO_QUESTION_NAME = 0xc000 | HEADER_BYTES;

/** Chooses the answer of one query: `queryIndex` counts A queries from 0, across all names. */
export type DnsAnswers = (name: string, queryIndex: number) => readonly string[];

export class TestDnsServer {
  /** The names of the A queries received, in order. */
  readonly queries: string[] = [];
  private readonly socket = createSocket('udp4');

  constructor(private readonly answers: DnsAnswers) {
    this.socket.on('message', (query: Buffer, from: RemoteInfo) => this.socket.send(this.respond(query), from.port, from.address));
  }

  /** Listens on a free port; returns `127.0.0.1:port` for Resolver.setServers. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return `127.0.0.1:${this.socket.address().port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private respond(query: Buffer): Buffer {
    // The question: length-prefixed labels ending in a zero byte, then its type and class.
    const labels: string[] = [];
    let offset = HEADER_BYTES;
    for (let length = query.readUInt8(offset); length > 0; length = query.readUInt8(offset)) {
      labels.push(query.toString('latin1', offset + 1, offset + 1 + length));
      offset += 1 + length;
    }
    const questionEnd = offset + 1 + 4;
    const type = query.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    const addresses = type === TYPE_A ? this.answers(name, this.queries.push(name) - 1) : [];

    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // the query's id
    header.writeUInt16BE(FLAGS_RESPONSE_NO_ERROR, 2);
    header.writeUInt16BE(1, 4); // one question
    header.writeUInt16BE(addresses.length, 6); // answers
    const records = addresses.map((address) => {
      const record = Buffer.alloc(16);
      record.writeUInt16BE(POINTER_TO_QUESTION_NAME, 0);
      record.writeUInt16BE(TYPE_A, 2);
      record.writeUInt16BE(CLASS_IN, 4);
      record.writeUInt32BE(0, 6); // TTL 0: nothing may cache the answer
      record.writeUInt16BE(4, 10);
      address.split('.').forEach((octet, index) => record.writeUInt8(Number(octet), 12 + index));
      return record;
    });
    return Buffer.concat([header, query.subarray(HEADER_BYTES, questionEnd), ...records]);
  }
}
