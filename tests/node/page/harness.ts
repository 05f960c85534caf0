// What the test drives and reads through `window.harness`, for both pages (Svelte 5 and Svelte 4).
import { get, type Writable } from 'svelte/store';
import { io } from 'socket.io-client';
import { socket } from '$lib/stores';

export interface Entry {
	component: 'runes' | 'legacy';
	kind: 'callback' | 'dispatched' | 'error' | 'error-dispatched';
	room: string;
	value: unknown;
}

export function installHarness(rooms: Record<string, Writable<string>>, unmountLegacy: () => void, log: Entry[]): void {
	const api = new URLSearchParams(location.search).get('api') ?? '';
	const raw: unknown[] = [];
	const own = (payload: unknown): void => {
		raw.push(payload);
	};
	const harness = {
		log,
		raw,
		// The store becomes non-null after the listeners are mounted, as +layout.svelte does.
		connect(token: string): void {
			const s = io(api, {
				path: '/ws/socket.io',
				transports: ['websocket', 'polling'],
				reconnectionDelay: 200,
				reconnectionDelayMax: 500,
				auth: { token }
			});
			// The page's own handler: listeners must never remove it.
			s.on('feature:updated', own);
			socket.set(s);
		},
		socketId(): string | null {
			return get(socket)?.id ?? null;
		},
		connected(): boolean {
			return get(socket)?.connected ?? false;
		},
		listenerCount(event: string): number {
			return get(socket)?.listeners(event).length ?? 0;
		},
		ownHandlerAttached(): boolean {
			return get(socket)?.listeners('feature:updated').includes(own) ?? false;
		},
		dropConnection(): void {
			get(socket)?.io.engine.close();
		},
		// Offline until goOnline(): no automatic reconnection in between.
		goOffline(): void {
			get(socket)?.disconnect();
		},
		goOnline(): void {
			get(socket)?.connect();
		},
		setRoom(name: string, id: string): void {
			rooms[name].set(id);
		},
		unmountLegacy
	};
	(window as unknown as { harness: typeof harness }).harness = harness;
	document.body.dataset.ready = 'true';
}
