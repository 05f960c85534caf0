// One socket.io-client socket following presence rooms through the generated runtime
// (src/lib/socket/eventgen-presence.ts) and the typed emit function of events.ts: what `list()`
// returns is what an app shows. tests/test_runtime_presence.py drives it.
//
// Usage: node client.js CONFIG_JSON   {url, token, boards: [board_id, ...]}
// stdout: {"joined": board} per joined board, {"report": {board: members}} per {"cmd": "report"} on stdin.
import { io, type Socket } from 'socket.io-client';

import { emitLobbyJoin, LOBBY_BOARD_PRESENCE, type ClientToServerEvents, type LobbyBoardPresencePayload, type ServerToClientEvents } from '../src/lib/socket/events.js';
import { PresenceState } from '../src/lib/socket/eventgen-presence.js';

declare const process: {
	argv: string[];
	exit(code: number): never;
	stdout: { write(text: string): boolean };
	stdin: { on(event: 'data', listener: (chunk: { toString(): string }) => void): void; on(event: 'end', listener: () => void): void };
};

interface Config {
	url: string;
	token: string;
	boards: string[];
}

function say(line: Record<string, unknown>): void {
	process.stdout.write(JSON.stringify(line) + '\n');
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const states = new Map<string, PresenceState>(config.boards.map((b) => [b, new PresenceState()]));
const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(config.url, {
	path: '/ws/socket.io',
	transports: ['websocket'],
	auth: { token: config.token },
	reconnection: false
});

socket.on(LOBBY_BOARD_PRESENCE, (diff: LobbyBoardPresencePayload) => states.get(diff.board_id)?.apply(diff));
socket.on('connect', () => {
	for (const board of config.boards) {
		void emitLobbyJoin(socket, { board_id: board }).then((ack) => {
			if (!ack.ok) {
				say({ failed: ack.error });
				return;
			}
			states.get(board)?.reset(ack.members, ack.members_version);
			say({ joined: board });
		});
	}
});

let buffer = '';
process.stdin.on('data', (chunk) => {
	buffer += chunk.toString();
	let newline: number;
	while ((newline = buffer.indexOf('\n')) >= 0) {
		const command = JSON.parse(buffer.slice(0, newline)) as { cmd: string };
		buffer = buffer.slice(newline + 1);
		if (command.cmd === 'report') say({ report: Object.fromEntries([...states].map(([b, s]) => [b, s.list()])) });
	}
});
process.stdin.on('end', () => {
	socket.close();
	process.exit(0);
});
