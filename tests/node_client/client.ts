// A socket.io-client program typed by the events.ts eventgen generated: the runtime tests
// (tests/test_runtime_node.py) type-check it with tsc --strict, then run it against the served app.
//
// Usage: node client.js URL TOKEN FEATURE_ID
// It joins the feature's room and board, proves a refused request is typed and answered,
// prints one JSON line per step to stdout ({"step": ...}), and exits 0 once it has received
// one `feature:updated` and one `board:say` (or 1 on any failure, 2 after 15 s).
import { io, type Socket } from 'socket.io-client';

import type {
	AckError,
	BoardJoinPayload,
	ClientToServerEvents,
	FeatureUpdatedPayload,
	ServerToClientEvents
} from '../src/lib/socket/events.js';
import { boardRoom, featureRoom } from '../src/lib/socket/events.js';

// Only what this program uses of Node, so it needs no @types/node.
declare const process: {
	argv: string[];
	exit(code: number): never;
	stdout: { write(text: string): boolean };
};

type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const ACK_TIMEOUT_MS = 5_000;
const RUN_TIMEOUT_MS = 15_000;

function say(step: string, detail: Record<string, unknown> = {}): void {
	process.stdout.write(JSON.stringify({ step, ...detail }) + '\n');
}

function fail(message: string, code = 1): never {
	say('failed', { message });
	process.exit(code);
}

function refusal(ack: AckError): string {
	return `${ack.error.code}: ${ack.error.message}`;
}

async function main(): Promise<void> {
	const [url, token, featureId] = process.argv.slice(2);
	if (!url || !token || !featureId) fail('usage: node client.js URL TOKEN FEATURE_ID');
	setTimeout(() => fail(`not done within ${RUN_TIMEOUT_MS} ms`, 2), RUN_TIMEOUT_MS);

	const socket: AppSocket = io(url, {
		path: '/ws/socket.io',
		transports: ['websocket'],
		auth: { token },
		reconnection: false
	});
	await new Promise<void>((resolve, reject) => {
		socket.once('connect', () => resolve());
		socket.once('connect_error', (err: Error) => reject(err));
	});

	let updated: FeatureUpdatedPayload | null = null;
	let said = false;
	const finishWhenDone = (): void => {
		if (updated && said) {
			socket.disconnect();
			say('done');
			process.exit(0);
		}
	};
	socket.on('feature:updated', (payload) => {
		updated = payload;
		say('received', { event: 'feature:updated', payload });
		finishWhenDone();
	});
	socket.on('board:say', (message) => {
		// The relay adds the sender, typed as EventSender.
		said = true;
		say('received', { event: 'board:say', payload: message, sender: message.user.name });
		finishWhenDone();
	});

	const joined = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('feature:subscribe', { feature_id: featureId });
	if (!joined.ok) fail(refusal(joined));
	if (joined.room !== featureRoom(featureId)) fail(`joined ${joined.room}, expected ${featureRoom(featureId)}`);
	const seated = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('board:join', { feature_id: featureId });
	if (!seated.ok) fail(refusal(seated));
	if (seated.room !== boardRoom(featureId)) fail(`joined ${seated.room}, expected ${boardRoom(featureId)}`);

	// Refusals arrive as typed acks too: a payload that lies about its type, and a handler that raises.
	const lying = { feature_id: 42 } as unknown as BoardJoinPayload;
	const invalid = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('board:join', lying);
	const exploded = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('board:compute', { x: 2, mode: 'explode' });
	const squared = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('board:compute', { x: 9 });
	say('joined', {
		rooms: [joined.room, seated.room],
		invalid: invalid.ok ? null : { code: invalid.error.code, details: invalid.error.details ?? [] },
		exploded: exploded.ok ? null : exploded.error.code,
		squared: squared.ok ? squared.data : null
	});
}

// Never called: tsc --strict must reject each marked line, or the generated types are too loose
// (an unused @ts-expect-error is itself an error).
export function misuses(socket: AppSocket): void {
	// @ts-expect-error feature_id is a string
	socket.emit('feature:subscribe', { feature_id: 42 }, () => {});
	// @ts-expect-error a required field is missing
	socket.emit('board:say', { feature_id: 'f1' }, () => {});
	// @ts-expect-error mode is one of the spec's enum values
	socket.emit('board:compute', { x: 1, mode: 'cube' }, () => {});
	// @ts-expect-error no such event
	socket.emit('feature:delete', { feature_id: 'f1' }, () => {});
	// @ts-expect-error a server-to-client event is not for clients to emit
	socket.emit('feature:updated', { feature_id: 'f1', data: {} });
	// @ts-expect-error the payload has no such key
	socket.on('feature:updated', (payload) => payload.feature_name);
	socket.emit('feature:subscribe', { feature_id: 'f1' }, (ack) => {
		// @ts-expect-error room exists only once `ok` has narrowed the ack
		void ack.room;
	});
}

main().catch((err: unknown) => fail(String(err)));
