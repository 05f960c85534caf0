// Many socket.io-client sockets, each following sequenced rooms through the generated runtime
// (src/lib/socket/eventgen-delivery.ts): what reaches `deliver` is what an app would see.
// tests/test_runtime_sequenced.py and benchmarks/bench_sequenced.py drive it.
//
// Usage: node client.js CONFIG_JSON
//   {urls, token, clients, rooms: [{kind, key}], roomsPerClient, holdMs, checkMs}
// stdin, one JSON command a line: {"cmd": "kill", "client": i} closes that socket's engine (the
// client reconnects by itself); {"cmd": "pause"|"resume", "client": i} disconnects it until resumed;
// {"cmd": "report"} prints every subscription; {"cmd": "quit"}.
// stdout: {"ready": n} once every subscription has joined, {"report": ...}, {"failed": message}.
import { io, type Socket } from 'socket.io-client';

import { SequencedRoom, type DeliveryStatus, type Position } from '../src/lib/socket/eventgen-delivery.js';

declare const process: {
	argv: string[];
	exit(code: number): never;
	stdout: { write(text: string): boolean };
	stdin: { on(event: 'data', listener: (chunk: { toString(): string }) => void): void; on(event: 'end', listener: () => void): void };
};

interface Config {
	urls: string[];
	token: string;
	clients: number;
	rooms: Array<{ kind: 'note' | 'memo' | 'pad'; key: string }>;
	roomsPerClient: number;
	holdMs?: number;
	checkMs?: number;
	latency?: boolean;
}

interface Sub {
	client: number;
	kind: string;
	key: string;
	start: number | null;
	epochs: string[];
	seqs: number[];
	ns: number[];
	resyncs: number;
	recoveries: number;
	replayed: number;
	statuses: DeliveryStatus[];
	latencies: number[];
	room: SequencedRoom | null;
	joined: boolean;
}

function say(line: Record<string, unknown>): void {
	process.stdout.write(JSON.stringify(line) + '\n');
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const sockets: Socket[] = [];
const subs: Sub[] = [];
let readySaid = false;

function checkReady(): void {
	if (!readySaid && subs.every((s) => s.joined)) {
		readySaid = true;
		say({ ready: subs.length });
	}
}

for (let i = 0; i < config.clients; i++) {
	const url = config.urls[i % config.urls.length] ?? '';
	const socket = io(url, {
		path: '/ws/socket.io',
		transports: ['websocket'],
		auth: { token: config.token },
		forceNew: true,
		reconnectionDelay: 200,
		reconnectionDelayMax: 1000,
		randomizationFactor: 0.5
	});
	sockets.push(socket);
	for (let j = 0; j < config.roomsPerClient; j++) {
		const target = config.rooms[(i * config.roomsPerClient + j) % config.rooms.length];
		if (!target) continue;
		const { kind, key } = target;
		const field = kind === 'note' ? 'note_id' : kind === 'memo' ? 'memo_id' : 'pad_id';
		const sub: Sub = { client: i, kind, key, start: null, epochs: [], seqs: [], ns: [], resyncs: 0, recoveries: 0, replayed: 0, statuses: [], latencies: [], room: null, joined: false };
		subs.push(sub);
		const event = `${kind}:changed`;
		const deliver = (_event: string, message: { n: number; seq?: number; sent_at?: number }): void => {
			sub.seqs.push(message.seq ?? sub.seqs.length + 1);
			sub.ns.push(message.n);
			if (config.latency && typeof message.sent_at === 'number') sub.latencies.push(Date.now() - message.sent_at * 1000);
		};
		const accepts = (_event: string, message: Record<string, unknown>): boolean => message[field] === key;
		if (kind === 'pad') {
			// Best effort: plain socket.io, for the benchmark's comparison.
			socket.on(event, (message: { n: number; sent_at?: number } & Record<string, unknown>) => {
				if (accepts(event, message)) deliver(event, message);
			});
			const join = (): void => {
				socket.emit('pad:join', { pad_id: key }, (ack: { ok: boolean }) => {
					if (ack.ok && sub.start === null) sub.start = 0;
					sub.joined = sub.joined || ack.ok;
					checkReady();
				});
			};
			socket.on('connect', join);
			continue;
		}
		sub.room = new SequencedRoom({
			socket,
			join: `${kind}:join`,
			payload: { [field]: key },
			events: [event],
			accepts,
			deliver,
			holdMs: config.holdMs ?? 500,
			checkMs: config.checkMs ?? 2000,
			ackTimeoutMs: 5000,
			retryMs: 300,
			onResync: (position: Position) => {
				sub.resyncs += 1;
				if (!sub.epochs.includes(position.epoch)) sub.epochs.push(position.epoch);
			},
			onStatus: (status: DeliveryStatus) => {
				sub.statuses.push(status);
			},
			onJoin: (ack) => {
				if (ack.ok && ack.position) {
					if (ack.recovered === true && ack.missed && ack.missed.length > 0) {
						sub.recoveries += 1;
						sub.replayed += ack.missed.length;
					}
					if (sub.start === null) {
						sub.start = ack.position.seq;
						sub.epochs.push(ack.position.epoch);
					}
					sub.joined = true;
					checkReady();
				} else if (!ack.ok) {
					say({ note: 'join refused', client: i, key, error: ack.error ?? null });
				}
			}
		});
	}
}

let buffer = '';
process.stdin.on('data', (chunk) => {
	buffer += chunk.toString();
	let newline = buffer.indexOf('\n');
	while (newline >= 0) {
		const line = buffer.slice(0, newline).trim();
		buffer = buffer.slice(newline + 1);
		newline = buffer.indexOf('\n');
		if (!line) continue;
		const command = JSON.parse(line) as { cmd: string; client?: number };
		if (command.cmd === 'kill') {
			const socket = sockets[command.client ?? 0];
			// A forced disconnect: the transport closes under the client, which reconnects by itself.
			(socket?.io as unknown as { engine?: { close(): void } }).engine?.close();
		} else if (command.cmd === 'pause') {
			sockets[command.client ?? 0]?.disconnect(); // away until "resume"
		} else if (command.cmd === 'resume') {
			sockets[command.client ?? 0]?.connect();
		} else if (command.cmd === 'report') {
			say({
				report: {
					connected: sockets.filter((s) => s.connected).length,
					subs: subs.map((s) => ({
						client: s.client,
						kind: s.kind,
						key: s.key,
						start: s.start,
						epochs: s.epochs,
						seqs: s.seqs,
						ns: s.ns,
						resyncs: s.resyncs,
						recoveries: s.recoveries,
						replayed: s.replayed,
						status: s.room?.status ?? (s.joined ? 'live' : 'joining'),
						position: s.room?.position ?? null,
						latencies: s.latencies
					}))
				}
			});
		} else if (command.cmd === 'quit') {
			for (const sub of subs) sub.room?.stop();
			for (const socket of sockets) socket.disconnect();
			setTimeout(() => process.exit(0), 100);
		}
	}
});
process.stdin.on('end', () => process.exit(0));
