// Server-side rendering of generated listeners while the socket store holds a trap: any property
// read on the socket throws, so a listener that touches the socket outside the browser fails here.
import { render } from 'svelte/server';
import { socket } from '$lib/stores';
import FeatureUpdates from '$lib/components/realtime/FeatureUpdates.svelte';
import LegacyFeatureUpdates from '$legacy/FeatureUpdates.svelte';

const touched: string[] = [];
const trap = new Proxy(
	{},
	{
		get(_target, key) {
			touched.push(String(key));
			throw new Error(`server-side rendering touched socket.${String(key)}`);
		}
	}
);
socket.set(trap as never);

const bodies = [FeatureUpdates, LegacyFeatureUpdates].map((component) =>
	render(component, { props: { featureId: 'f1' } }).body
);
process.stdout.write(JSON.stringify({ bodies, touched }));
