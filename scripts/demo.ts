// npm run demo: three networks federating on this machine.
//   aura     http://127.0.0.1:3101  (regional)
//   idf      http://127.0.0.1:3102  (regional)
//   miramap  http://127.0.0.1:3103  (national, relays what it receives: FEDERATION_RELAY)
// Each has its own embedded database under ./data/demo/<name>. The regionals follow Miramap and
// Miramap follows them; a few sample announcements are published. Run it again: it picks up where
// it was (nothing is duplicated). Ctrl-C stops the three.
import path from 'node:path';
import pino from 'pino';
import { findUserByEmail } from '../server/accounts/accounts.repository.ts';
import { createUser } from '../server/accounts/accounts.service.ts';
import { createAnnouncement } from '../server/announcements/announcements.service.ts';
import { loadConfig } from '../server/config.ts';
import { federationOf } from '../server/federation/federation.module.ts';
import { listFollows } from '../server/federation/federation.repository.ts';
import { followTarget } from '../server/federation/follows.service.ts';
import { type RunningInstance, startInstance } from '../server/instance.ts';

interface Demo {
  name: string;
  title: string;
  port: number;
  relay: boolean;
  samples: Array<{ title: string; summary: string; body: string; tags: string[] }>;
}

const NETWORKS: Demo[] = [
  {
    name: 'aura',
    title: 'AMAP Auvergne-Rhône-Alpes',
    port: 3101,
    relay: false,
    samples: [
      {
        title: 'Fête des AMAP à Clermont-Ferrand',
        summary: 'Rendez-vous le samedi 13 juin au jardin Lecoq : producteurs, ateliers et pique-nique partagé.',
        body: 'Toutes les AMAP de la région sont invitées.\n\n- ateliers semences\n- marché des producteurs\n- pique-nique partagé',
        tags: ['fete', 'auvergne'],
      },
      {
        title: 'Recherche d’un maraîcher pour l’AMAP de Villeurbanne',
        summary: 'L’AMAP des Gratte-Ciel cherche un maraîcher bio pour la saison prochaine.',
        body: 'Contactez le réseau si vous connaissez un producteur intéressé.',
        tags: ['installation', 'maraichage'],
      },
    ],
  },
  {
    name: 'idf',
    title: 'AMAP Île-de-France',
    port: 3102,
    relay: false,
    samples: [
      {
        title: 'Formation « Créer son AMAP » le 4 avril',
        summary: 'Une journée pour les collectifs qui veulent créer une AMAP en Île-de-France.',
        body: 'Inscription gratuite auprès du réseau. Repas tiré du sac.',
        tags: ['formation'],
      },
      {
        title: 'Nouvelle AMAP à Montreuil',
        summary: 'Les premières distributions commencent en mai, le mardi soir.',
        body: 'Légumes, œufs et pain, en lien avec trois fermes de Seine-et-Marne.',
        tags: ['montreuil'],
      },
    ],
  },
  {
    name: 'miramap',
    title: 'MIRAMAP — Mouvement inter-régional des AMAP',
    port: 3103,
    relay: true,
    samples: [
      {
        title: 'Rencontres nationales des AMAP 2027',
        summary: 'Les rencontres nationales auront lieu à Lyon du 15 au 17 octobre.',
        body: 'Trois jours d’échanges entre paysans et amapiens de toute la France.',
        tags: ['rencontres', 'national'],
      },
    ],
  },
];

const password = (name: string) => `demo-${name}-amap-2026`;
const email = (name: string) => `admin@${name}.demo`;

async function start(demo: Demo): Promise<RunningInstance> {
  const url = `http://127.0.0.1:${demo.port}`;
  const config = loadConfig({
    PORT: String(demo.port),
    HOST: '127.0.0.1',
    PUBLIC_URL: url,
    DATA_DIR: path.resolve('data/demo', demo.name),
    INSTANCE_NAME: demo.title,
    INSTANCE_HANDLE: demo.name,
    FEDERATION_ALLOW_PRIVATE: 'true', // the three talk to each other on 127.0.0.1
    FEDERATION_RELAY: String(demo.relay),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
  });
  const instance = await startInstance(config, { logger: pino({ level: config.logLevel }) });
  if (!(await findUserByEmail(instance.ctx.db, email(demo.name)))) {
    await createUser(instance.ctx.db, { email: email(demo.name), password: password(demo.name), role: 'admin', displayName: 'Admin démo' });
  }
  return instance;
}

async function waitAccepted(instance: RunningInstance, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const follows = await listFollows(instance.ctx.db);
    if (follows.filter((f) => f.status === 'accepted').length >= count) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  console.warn(`  (${instance.ctx.config.instanceHandle}: some follows are still pending)`);
}

async function main(): Promise<void> {
  console.log('Démarrage de trois réseaux AMAP (cela peut prendre une minute)…');
  const instances = await Promise.all(NETWORKS.map(start));
  let stopping = false;
  const stopAll = async () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('\nArrêt des trois instances…');
    await Promise.allSettled(instances.map((i) => i.stop()));
    process.exit(0);
  };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);

  const [aura, idf, miramap] = instances as [RunningInstance, RunningInstance, RunningInstance];
  const address = (i: RunningInstance) => `${i.ctx.config.instanceHandle}@${new URL(i.ctx.config.publicUrl).host}`;
  const rt = (i: RunningInstance) => federationOf(i.ctx)!.rt;
  for (const [from, to] of [
    [aura, miramap],
    [idf, miramap],
    [miramap, aura],
    [miramap, idf],
  ] as const) {
    await followTarget(rt(from), address(to));
  }
  await Promise.all([waitAccepted(aura, 1), waitAccepted(idf, 1), waitAccepted(miramap, 2)]);

  for (const [index, instance] of instances.entries()) {
    const demo = NETWORKS[index] as Demo;
    const existing = await instance.ctx.db.selectFrom('announcements').select('id').where('origin', '=', 'local').executeTakeFirst();
    if (existing) continue;
    for (const sample of demo.samples) {
      await instance.ctx.db
        .transaction()
        .execute((trx) =>
          createAnnouncement(trx, { config: instance.ctx.config, events: instance.ctx.events }, null, { ...sample, status: 'published' }),
        );
    }
  }

  console.log('\nLes trois réseaux tournent :\n');
  for (const [index, instance] of instances.entries()) {
    const demo = NETWORKS[index] as Demo;
    console.log(`  ${demo.title}`);
    console.log(`    site        ${instance.ctx.config.publicUrl}/`);
    console.log(`    fédération  ${address(instance)}${demo.relay ? '  (relaie les annonces reçues)' : ''}`);
    console.log(`    admin       ${instance.ctx.config.publicUrl}/login  ${email(demo.name)} / ${password(demo.name)}`);
    console.log('');
  }
  console.log('Les régions suivent le MIRAMAP et le MIRAMAP suit les régions. Ctrl-C pour tout arrêter.');
}

main().catch((error) => {
  console.error(`La démo n’a pas pu démarrer : ${(error as Error).message}`);
  process.exit(1);
});
