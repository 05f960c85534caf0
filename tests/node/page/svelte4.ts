// Svelte 4 itself: the Svelte 4 syntax listener on Svelte 4's runtime (`new Component`, `$destroy`).
import { writable } from 'svelte/store';
import LegacyHarness from './LegacyHarness.svelte';
import { installHarness, type Entry } from './harness';

const query = new URLSearchParams(location.search);
const log: Entry[] = [];
const rooms = { b: writable(query.get('b') ?? 'f1') };

let legacy: LegacyHarness | null = new LegacyHarness({
	target: document.getElementById('legacy')!,
	props: { room: rooms.b, log }
});

installHarness(rooms, () => {
	legacy?.$destroy();
	legacy = null;
}, log);
