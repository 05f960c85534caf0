// Code written against an older events.ts, where calls:echo was still `echo`: it compiles, and the
// deprecation diagnostic marks every use of an old name (each line ending in `// deprecated`).
import type { Socket } from 'socket.io-client';

import type { ClientToServerEvents, EchoAck, EchoPayload, ServerToClientEvents } from '../src/lib/socket/events.js'; // deprecated
import { CALLS_ECHO, ECHO, emitCallsEcho, emitEcho } from '../src/lib/socket/events.js'; // deprecated

type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export async function oldCode(socket: AppSocket): Promise<string> {
	const payload: EchoPayload = { text: 'hi' }; // deprecated
	const ack: EchoAck = await emitEcho(socket, payload); // deprecated
	const name: string = ECHO; // deprecated
	return ack.ok ? name : '';
}

export async function newCode(socket: AppSocket): Promise<string> {
	const ack = await emitCallsEcho(socket, { text: 'hi' });
	return ack.ok ? CALLS_ECHO : '';
}
