// socket.io-client programs for tests/test_runtime_client_calls.py, typed by the generated events.ts
// (tsc --strict) and run with Node against the served app. One JSON line per step on stdout.
//
// Usage: node calls.js SCENARIO URL TOKEN [TOKEN...]
//   timeouts    a handler that never answers, the spec's timeout_ms, per-call overrides
//   disconnect  a call in flight when the server dies ("sent", then the result)
//   retries N   N idempotent calls (two callers per key) with retries, through lost acks
//   fleet       old and new clients side by side on renamed events
import { io, type Socket } from 'socket.io-client';

import type { ClientToServerEvents, ServerToClientEvents } from '../src/lib/socket/events.js';
import {
	emitCallsCharge,
	emitCallsEcho,
	emitCallsHang,
	emitCallsNote,
	emitCallsRuns,
	emitCallsSlow,
	emitDeskChat,
	emitDeskEnter
} from '../src/lib/socket/events.js';

declare const process: {
	argv: string[];
	exit(code: number): never;
	stdout: { write(text: string): boolean };
};

type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const RUN_TIMEOUT_MS = 90_000;

function say(step: string, detail: Record<string, unknown> = {}): void {
	process.stdout.write(JSON.stringify({ step, ...detail }) + '\n');
}

function fail(message: string, code = 1): never {
	say('failed', { message });
	process.exit(code);
}

async function connect(url: string, token: string, reconnection = false): Promise<AppSocket> {
	const socket: AppSocket = io(url, {
		path: '/ws/socket.io',
		transports: ['websocket'],
		auth: { token },
		reconnection,
		forceNew: true
	});
	await new Promise<void>((resolve, reject) => {
		socket.once('connect', () => resolve());
		socket.once('connect_error', (err: Error) => reject(err));
	});
	return socket;
}

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
	const start = Date.now();
	const result = await call();
	return { result, ms: Date.now() - start };
}

async function timeouts(url: string, token: string): Promise<void> {
	const socket = await connect(url, token);
	// Side by side, so a loaded machine delays them alike: the spec's 400 ms, and a call's own 1200 ms.
	const [byDefault, overridden, slowDefault, slowOverridden] = await Promise.all([
		timed(() => emitCallsHang(socket, {})),
		timed(() => emitCallsHang(socket, {}, { timeoutMs: 1200 })),
		timed(() => emitCallsSlow(socket, { ms: 800 })),
		timed(() => emitCallsSlow(socket, { ms: 800 }, { timeoutMs: 20_000 }))
	]);
	say('timeouts', { byDefault, overridden, slowDefault, slowOverridden, connected: socket.connected });
	socket.disconnect();
	// A socket closed for good answers at once.
	const closed = await timed(() => emitCallsSlow(socket, { ms: 1 }, { timeoutMs: 20_000 }));
	say('closed', { closed });
}

async function disconnect(url: string, token: string): Promise<void> {
	const socket = await connect(url, token, true);
	const pending = timed(() => emitCallsSlow(socket, { ms: 60_000 }, { timeoutMs: 60_000 }));
	say('sent');
	const { result, ms } = await pending;
	say('result', { result, ms });
	socket.disconnect();
}

async function retries(url: string, token: string, count: number): Promise<void> {
	const socket = await connect(url, token);
	const started = Date.now();
	const calls: Promise<{ key: string; caller: number; ack: unknown }>[] = [];
	for (let i = 0; i < count; i++) {
		const key = `k${i}-${started}`;
		for (const caller of [0, 1]) {
			calls.push(
				emitCallsCharge(socket, { amount: i, ms: 100 }, { retries: 8, timeoutMs: 1500, idempotencyKey: key }).then((ack) => ({
					key,
					caller,
					ack
				}))
			);
		}
	}
	const results = await Promise.all(calls);
	const runs = await emitCallsRuns(socket, {});
	say('retries', { results, runs: runs.ok ? runs.data : runs, ms: Date.now() - started });
	socket.disconnect();
}

async function fleet(url: string, tokens: string[]): Promise<void> {
	const [t1, t2, t3, t4] = tokens;
	if (!t1 || !t2 || !t3 || !t4) fail('fleet needs four tokens');
	const sockets = {
		newA: await connect(url, t1),
		newB: await connect(url, t2),
		oldDash: await connect(url, t3),
		oldDot: await connect(url, t4)
	};
	const seen: Record<string, Record<string, unknown[]>> = {};
	for (const [name, socket] of Object.entries(sockets)) {
		const mine: Record<string, unknown[]> = {};
		seen[name] = mine;
		socket.onAny((event: string, payload: unknown) => {
			(mine[event] ??= []).push(payload);
		});
	}
	const desk = `d${Date.now()}`;
	// New clients join through the generated function; old ones with the old name, as an old build would.
	const joins = [
		await emitDeskEnter(sockets.newA, { desk_id: desk }),
		await emitDeskEnter(sockets.newB, { desk_id: desk }),
		await sockets.oldDash.timeout(5000).emitWithAck('desk-enter', { desk_id: desk }),
		await sockets.oldDot.timeout(5000).emitWithAck('desk-enter', { desk_id: desk })
	];
	const echoOld = await sockets.oldDash.timeout(5000).emitWithAck('echo', { text: 'from an old client' });
	const echoNew = await emitCallsEcho(sockets.newA, { text: 'from a new client' });
	const noted = await emitCallsNote(sockets.newA, { desk_id: desk, text: 'one note' });
	const saidNew = await emitDeskChat(sockets.newA, { desk_id: desk, text: 'new says' });
	const saidOld = await sockets.oldDot.timeout(5000).emitWithAck('desk-chat', { desk_id: desk, text: 'old says' });
	// A round trip per socket: whatever the server sent it before has arrived.
	for (const socket of Object.values(sockets)) await emitCallsRuns(socket, {});
	say('fleet', { joins, echoOld, echoNew, noted, saidNew, saidOld, seen });
	for (const socket of Object.values(sockets)) socket.disconnect();
}

async function main(): Promise<void> {
	const [scenario, url, ...rest] = process.argv.slice(2);
	setTimeout(() => fail(`not done within ${RUN_TIMEOUT_MS} ms`, 2), RUN_TIMEOUT_MS);
	if (!url || !rest[0]) fail('usage: node calls.js SCENARIO URL TOKEN...');
	if (scenario === 'timeouts') await timeouts(url, rest[0]);
	else if (scenario === 'disconnect') await disconnect(url, rest[0]);
	else if (scenario === 'retries') await retries(url, rest[0], Number(rest[1] ?? '20'));
	else if (scenario === 'fleet') await fleet(url, rest);
	else fail(`unknown scenario ${scenario}`);
	say('done');
	process.exit(0);
}

// Never called: tsc --strict must reject each marked line (an unused @ts-expect-error is an error too).
export function misuses(socket: AppSocket): void {
	// @ts-expect-error retries only for idempotent events: a retry of calls:slow would run it twice
	void emitCallsSlow(socket, { ms: 1 }, { retries: 2 });
	// @ts-expect-error amount is an int
	void emitCallsCharge(socket, { amount: 'ten' });
	// @ts-expect-error timeoutMs is a number
	void emitCallsHang(socket, {}, { timeoutMs: '5s' });
	void emitCallsEcho(socket, { text: 'x' }).then((ack) => {
		// @ts-expect-error data exists only once `ok` has narrowed the ack
		void ack.data;
		if (!ack.ok) {
			// The client's own failures are typed codes like the server's.
			const code:
				| 'timeout'
				| 'disconnected'
				| 'unauthenticated'
				| 'invalid_payload'
				| 'forbidden'
				| 'internal'
				| 'limit_exceeded'
				| 'rate_limited'
				| 'payload_too_large' = ack.error.code;
			void code;
		}
	});
}

main().catch((err: unknown) => fail(String(err)));
