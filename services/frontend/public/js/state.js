// Shared state that several panels read: is the hub up, which agents are down, the live feed.

class Bus extends EventTarget {
  constructor() {
    super();
    this.hub = { state: 'unknown', message: '' };
    this.agents = new Map(); // name -> agent status object
    this.feed = 'connecting';
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  on(type, fn) {
    this.addEventListener(type, (e) => fn(e.detail));
  }

  setHub(state, message = '') {
    if (this.hub.state === state && this.hub.message === message) return;
    this.hub = { state, message };
    this.emit('hub', this.hub);
  }

  setAgents(list) {
    this.agents = new Map(list.map((a) => [a.name, a]));
    this.emit('agents', list);
  }

  setFeed(state) {
    if (this.feed === state) return;
    this.feed = state;
    this.emit('feed', state);
  }
}

export const bus = new Bus();
