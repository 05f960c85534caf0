// A page that mounts generated listeners the way an app does, with the socket store still empty:
// the test connects later through `window.harness.connect`, as +layout.svelte does after mount.
import { mount, unmount } from 'svelte';
import { get, writable } from 'svelte/store';
import { io } from 'socket.io-client';
import { socket } from '$lib/stores';
import RunesHarness from './RunesHarness.svelte';
import LegacyHarness from './LegacyHarness.svelte';
import type { Entry } from './harness';

const query = new URLSearchParams(location.search);
const api = query.get('api') ?? '';
const log: Entry[] = [];
const raw: unknown[] = [];
const roomA = writable(query.get('a') ?? 'f1');
const roomB = writable(query.get('b') ?? 'f1');

mount(RunesHarness, { target: document.getElementById('runes')!, props: { room: roomA, log } });
let legacy: ReturnType<typeof mount> | null = mount(LegacyHarness, {
	target: document.getElementById('legacy')!,
	props: { room: roomB, log }
});

const harness = {
	log,
	raw,
	connect(token: string): void {
		const s = io(api, {
			path: '/ws/socket.io',
			transports: ['websocket', 'polling'],
			reconnectionDelay: 200,
			reconnectionDelayMax: 500,
			auth: { token }
		});
		// The page's own handler: listeners must never remove it.
		s.on('feature:updated', (payload: unknown) => raw.push(payload));
		socket.set(s);
	},
	socketId(): string | null {
		return get(socket)?.id ?? null;
	},
	connected(): boolean {
		return get(socket)?.connected ?? false;
	},
	dropConnection(): void {
		get(socket)?.io.engine.close();
	},
	setRoomA(id: string): void {
		roomA.set(id);
	},
	unmountLegacy(): void {
		if (legacy) unmount(legacy);
		legacy = null;
	}
};

(window as unknown as { harness: typeof harness }).harness = harness;
document.body.dataset.ready = 'true';
