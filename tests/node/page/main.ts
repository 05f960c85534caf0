// Svelte 5: the runes listener and the Svelte 4 syntax listener side by side, mounted while the
// socket store is still empty.
import { mount, unmount } from 'svelte';
import { writable } from 'svelte/store';
import RunesHarness from './RunesHarness.svelte';
import LegacyHarness from './LegacyHarness.svelte';
import { installHarness, type Entry } from './harness';

const query = new URLSearchParams(location.search);
const log: Entry[] = [];
const rooms = { a: writable(query.get('a') ?? 'f1'), b: writable(query.get('b') ?? 'f1') };

mount(RunesHarness, { target: document.getElementById('runes')!, props: { room: rooms.a, log } });
let legacy: ReturnType<typeof mount> | null = mount(LegacyHarness, {
	target: document.getElementById('legacy')!,
	props: { room: rooms.b, log }
});

installHarness(rooms, () => {
	if (legacy) unmount(legacy);
	legacy = null;
}, log);
