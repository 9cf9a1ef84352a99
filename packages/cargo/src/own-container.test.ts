import { containerIdFromMountinfo } from './own-container';

const ID = 'f'.repeat(8) + '0123456789abcdef'.repeat(3) + '01234567';

describe('containerIdFromMountinfo', () => {
  it('reads the id from the mount of the container’s hostname, hosts or resolv.conf file', () => {
    for (const file of ['hostname', 'hosts', 'resolv.conf']) {
      const mountinfo = [
        '1520 1360 0:120 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X',
        `1530 1520 254:1 /var/lib/docker/containers/${ID}/${file} /etc/${file} rw,relatime - ext4 /dev/vda1 rw`,
      ].join('\n');
      expect(containerIdFromMountinfo(mountinfo)).toBe(ID);
    }
  });

  it('works with any data root', () => {
    const line = `88 80 0:44 /tmp/dockerd-x/root/containers/${ID}/hostname /etc/hostname rw - ext4 /dev/sda rw\n`;
    expect(containerIdFromMountinfo(line)).toBe(ID);
  });

  it('is undefined outside a container, and for look-alikes that are not Docker’s files', () => {
    expect(containerIdFromMountinfo('22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n')).toBeUndefined();
    expect(
      containerIdFromMountinfo(`30 22 8:1 /srv/containers/${ID}/data /data rw - ext4 /dev/sda1 rw`),
    ).toBeUndefined();
    expect(containerIdFromMountinfo(`30 22 8:1 /srv/containers/${ID.slice(1)}/hostname /x rw`)).toBeUndefined();
  });
});
